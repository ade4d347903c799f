#pragma once
// One client connection of the fake Realtime API: shared by fakerealtime.cpp (events, session) and
// fakerealtime_responses.cpp (responses, VAD).

#include "fakerealtime.h"

#include <QHash>
#include <QJsonObject>
#include <QSet>
#include <QTimer>
#include <QWebSocket>

#include <memory>

namespace vaani::test {

struct FakeRealtimeServer::Session
{
    std::unique_ptr<QWebSocket> ws;
    QJsonObject session;
    // current response
    bool active = false;
    QString responseId;
    QString itemId;
    QString transcript;
    QByteArray speech; // the voice's audio for this answer (empty: a tone)
    int audioMsLeft = 0;
    int audioMsSent = 0;
    qsizetype transcriptSent = 0;
    QTimer audioTimer;
    QTimer lifetime;                // the API ends a session at its maximum duration
    bool replayPendingUser = false; // client-created items: a user message not yet answered
    QHash<QString, int> itemAudioMs;
    QSet<QString> callIds;
    // VAD
    bool speaking = false;
    int silenceMs = 0;
    qint64 positionMs = 0;
    QString userItem;
    int turnIndex = 0;
    bool awaitingOutput = false;
    QString lastOutput;
    bool greeted = false;
    const FakeTurn *callAfterSpeech = nullptr; // a sayFirst turn's function, sent when its audio is done
};

} // namespace vaani::test

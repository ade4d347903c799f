#pragma once
// What the end-to-end call tests share (tst_callflow, tst_modeldrops): a server harness with the fake
// Realtime API and a fake Twilio REST API, and readers for what the fake received and the call record holds.
// Each test function starts a fresh harness (init: reset(); cleanup: finish()); the client events the server
// sent are appended to `eventsFile`, which the realtime_client_events_schema test validates against OpenAI's
// schema.

#include "faketwiliorest.h"
#include "serverharness.h"
#include "testenv.h"

#include <QFile>
#include <QJsonObject>

#include <algorithm>
#include <functional>
#include <memory>

namespace vaani::test {

using namespace Qt::StringLiterals;

class CallFlowFixture
{
protected:
    explicit CallFlowFixture(const char *eventsFileName)
        : m_eventsFile(qEnvironmentVariable("VAANI_TEST_TMP") + u'/' + QString::fromLatin1(eventsFileName))
    {}

    void removeEvents() const { QFile::remove(m_eventsFile); }
    void reset() { h = std::make_unique<ServerHarness>(); }
    void finish()
    {
        if (h)
            h->fake.writeEvents(m_eventsFile);
        h.reset();
        rest.reset();
    }

    std::unique_ptr<ServerHarness> h;
    std::unique_ptr<FakeTwilioRest> rest;

    std::unique_ptr<TwilioSimulator> connectCall() { return h->connectCall(); }

    bool startHarness(const std::function<void(ServerOptions &)> &tweak = {})
    {
        rest = std::make_unique<FakeTwilioRest>(QString::fromLatin1(ServerHarness::kAccountSid),
                                                QString::fromLatin1(ServerHarness::kAuthToken));
        if (!rest->listen())
            return false;
        const QUrl restUrl = rest->baseUrl();
        return h->start([&](ServerOptions &o) {
            o.settings.twilio.apiBase = restUrl;
            if (tweak)
                tweak(o);
        });
    }

    QString output(int index = 0)
    {
        const auto items = h->fake.receivedOfType(u"conversation.item.create"_s);
        QList<QJsonObject> outputs;
        for (const auto &i : items)
            if (i.value(u"item"_s).toObject().value(u"type"_s).toString() == u"function_call_output"_s)
                outputs << i.value(u"item"_s).toObject();
        return index < outputs.size() ? outputs.at(index).value(u"output"_s).toString() : QString();
    }

    QList<QJsonObject> itemsCreatedSince(int index) const
    {
        QList<QJsonObject> items;
        const auto all = h->fake.receivedOfType(u"conversation.item.create"_s);
        for (qsizetype i = index; i < all.size(); ++i)
            items << all.at(i).value(u"item"_s).toObject();
        return items;
    }

    QList<db::TranscriptEntry> linesOf(const QString &callSid)
    {
        const auto call = h->repos().calls.findBySid(callSid).value;
        return h->repos().calls.transcript(call.id).value;
    }

    static bool hasLine(const QList<db::TranscriptEntry> &lines, const QString &speaker, const QString &text)
    {
        return std::any_of(lines.begin(), lines.end(), [&](const db::TranscriptEntry &l) {
            return l.speaker == speaker && l.text.contains(text);
        });
    }

    QHash<QString, double> metricSamples()
    {
        QHash<QString, double> samples;
        QHash<QString, QString> types;
        QString error;
        if (!parsePrometheus(h->get(QStringLiteral("/metrics")).body, &samples, &types, &error))
            qWarning() << error;
        return samples;
    }

private:
    QString m_eventsFile;
};

} // namespace vaani::test

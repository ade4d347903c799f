#pragma once
// The softphone window: server URL, caller number, auth token, Call / Hang up, a keypad that sends DTMF,
// input and output level meters, mute, the call timer and a scrolling log of protocol events.
// Threads: the GUI thread only. Owns the current call (a child; replaced when the next one starts) and the
// audio devices that play and record it.

#include "audiodevices.h"
#include "softphonecall.h"

#include <QMainWindow>
#include <QPointer>
#include <QTimer>

class QLineEdit;
class QPushButton;
class QProgressBar;
class QPlainTextEdit;
class QLabel;
class QCheckBox;

namespace vaani::softphone {

class SoftphoneWindow : public QMainWindow
{
    Q_OBJECT
public:
    SoftphoneWindow(const SoftphoneCall::Settings &defaults, QWidget *parent = nullptr);
    ~SoftphoneWindow() override;
    SoftphoneCall *call() const { return m_call; }

public Q_SLOTS:
    void startCall();
    void hangUp();

private:
    void log(const QString &name, const QString &detail);
    void updateUi();

    QLineEdit *m_server;
    QLineEdit *m_caller;
    QLineEdit *m_token;
    QPushButton *m_callButton;
    QPushButton *m_hangupButton;
    QCheckBox *m_mute;
    QProgressBar *m_inLevel;
    QProgressBar *m_outLevel;
    QLabel *m_timer;
    QLabel *m_status;
    QPlainTextEdit *m_log;
    QList<QPushButton *> m_keys;
    QPointer<SoftphoneCall> m_call;
    AudioDevices m_audio;
    QTimer m_clock;
    SoftphoneCall::Settings m_defaults;
};

} // namespace vaani::softphone

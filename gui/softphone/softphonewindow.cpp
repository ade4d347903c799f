#include "softphonewindow.h"

#include <QCheckBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QTime>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace vaani::softphone {

SoftphoneWindow::SoftphoneWindow(const SoftphoneCall::Settings &defaults, QWidget *parent)
    : QMainWindow(parent)
    , m_defaults(defaults)
{
    setWindowTitle(tr("Vaani softphone"));
    auto *central = new QWidget(this);
    auto *layout = new QVBoxLayout(central);

    auto *form = new QFormLayout;
    m_server = new QLineEdit(defaults.serverUrl.toString(), central);
    m_server->setObjectName(u"serverUrl"_s);
    m_caller = new QLineEdit(defaults.from, central);
    m_caller->setObjectName(u"callerNumber"_s);
    m_token = new QLineEdit(defaults.authToken, central);
    m_token->setObjectName(u"authToken"_s);
    m_token->setEchoMode(QLineEdit::Password);
    m_token->setPlaceholderText(tr("optional: signs requests like Twilio"));
    form->addRow(tr("&Server URL"), m_server);
    form->addRow(tr("&Caller number"), m_caller);
    form->addRow(tr("&Auth token"), m_token);
    layout->addLayout(form);

    auto *buttons = new QHBoxLayout;
    m_callButton = new QPushButton(tr("Call"), central);
    m_callButton->setObjectName(u"callButton"_s);
    m_callButton->setDefault(true);
    m_hangupButton = new QPushButton(tr("Hang up"), central);
    m_hangupButton->setObjectName(u"hangupButton"_s);
    m_mute = new QCheckBox(tr("&Mute"), central);
    m_mute->setObjectName(u"muteCheck"_s);
    m_timer = new QLabel(u"00:00"_s, central);
    m_timer->setObjectName(u"callTimer"_s);
    QFont mono = m_timer->font();
    mono.setPointSize(mono.pointSize() + 4);
    m_timer->setFont(mono);
    buttons->addWidget(m_callButton);
    buttons->addWidget(m_hangupButton);
    buttons->addWidget(m_mute);
    buttons->addStretch();
    buttons->addWidget(m_timer);
    layout->addLayout(buttons);

    auto *middle = new QHBoxLayout;
    auto *keypadBox = new QGroupBox(tr("Keypad"), central);
    auto *keypad = new QGridLayout(keypadBox);
    const QString keys = u"123456789*0#"_s;
    for (int i = 0; i < keys.size(); ++i) {
        auto *b = new QPushButton(QString(keys.at(i)), keypadBox);
        b->setObjectName(u"key_"_s + (keys.at(i) == u'*'   ? u"star"_s
                                      : keys.at(i) == u'#' ? u"hash"_s
                                                           : QString(keys.at(i))));
        b->setFixedSize(44, 36);
        connect(b, &QPushButton::clicked, this, [this, k = keys.at(i)] {
            if (m_call)
                m_call->sendDtmf(QString(k));
        });
        keypad->addWidget(b, i / 3, i % 3);
        m_keys << b;
    }
    middle->addWidget(keypadBox);
    auto *levelsBox = new QGroupBox(tr("Levels"), central);
    auto *levels = new QFormLayout(levelsBox);
    m_inLevel = new QProgressBar(levelsBox);
    m_inLevel->setObjectName(u"inputLevel"_s);
    m_outLevel = new QProgressBar(levelsBox);
    m_outLevel->setObjectName(u"outputLevel"_s);
    for (QProgressBar *p : {m_inLevel, m_outLevel}) {
        p->setRange(0, 100);
        p->setTextVisible(false);
    }
    levels->addRow(tr("You"), m_inLevel);
    levels->addRow(tr("Agent"), m_outLevel);
    m_status = new QLabel(AudioDevices::describeDevices(), levelsBox);
    m_status->setObjectName(u"statusLabel"_s);
    m_status->setWordWrap(true);
    levels->addRow(m_status);
    middle->addWidget(levelsBox, 1);
    layout->addLayout(middle);

    m_log = new QPlainTextEdit(central);
    m_log->setObjectName(u"protocolLog"_s);
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(2000);
    m_log->setPlaceholderText(tr("Protocol events (start, marks, clears, stop) appear here."));
    layout->addWidget(m_log, 1);
    setCentralWidget(central);
    resize(560, 520);

    connect(m_callButton, &QPushButton::clicked, this, &SoftphoneWindow::startCall);
    connect(m_hangupButton, &QPushButton::clicked, this, &SoftphoneWindow::hangUp);
    connect(m_mute, &QCheckBox::toggled, this, [this](bool on) {
        if (m_call)
            m_call->setMuted(on);
    });
    m_clock.setInterval(250);
    connect(&m_clock, &QTimer::timeout, this, [this] {
        if (m_call)
            m_timer->setText(QTime(0, 0).addMSecs(int(m_call->elapsedMs())).toString(u"mm:ss"_s));
    });
    updateUi();
}

SoftphoneWindow::~SoftphoneWindow() = default;

void SoftphoneWindow::log(const QString &name, const QString &detail)
{
    const QString t =
        m_call ? QTime(0, 0).addMSecs(int(m_call->elapsedMs())).toString(u"mm:ss.zzz"_s) : QString();
    m_log->appendPlainText(u"%1  %2  %3"_s.arg(t, name.leftJustified(8), detail));
}

void SoftphoneWindow::startCall()
{
    if (m_call && m_call->state() != SoftphoneCall::State::Ended)
        return;
    if (m_call)
        m_call->deleteLater();
    SoftphoneCall::Settings s = m_defaults;
    s.serverUrl = QUrl(m_server->text().trimmed());
    s.from = m_caller->text().trimmed();
    s.authToken = m_token->text();
    if (!s.serverUrl.isValid() ||
        !(s.serverUrl.scheme() == u"http"_s || s.serverUrl.scheme() == u"https"_s)) {
        m_status->setText(tr("The server URL must look like http://127.0.0.1:8080"));
        return;
    }
    m_call = new SoftphoneCall(s, this);
    m_call->setMuted(m_mute->isChecked());
    connect(m_call, &SoftphoneCall::protocolEvent, this, &SoftphoneWindow::log);
    connect(m_call, &SoftphoneCall::levels, this, [this](double in, double out) {
        m_inLevel->setValue(int(in * 100));
        m_outLevel->setValue(int(out * 100));
    });
    connect(m_call, &SoftphoneCall::stateChanged, this, [this](SoftphoneCall::State st) {
        if (st == SoftphoneCall::State::InCall) {
            QString error;
            if (!m_audio.start(m_call, &error)) {
                m_call->setVirtualPlayback(true);
                m_status->setText(error);
                log(u"audio"_s, error);
            }
        }
        updateUi();
    });
    connect(m_call, &SoftphoneCall::ended, this, [this](const QString &reason, bool failed) {
        m_audio.stop();
        m_clock.stop();
        log(failed ? u"failed"_s : u"ended"_s, reason);
        m_status->setText(reason);
        updateUi();
    });
    log(u"call"_s, tr("calling %1 as %2").arg(s.serverUrl.toString(), s.from));
    m_clock.start();
    m_call->dial();
    updateUi();
}

void SoftphoneWindow::hangUp()
{
    if (m_call)
        m_call->hangUp();
}

void SoftphoneWindow::updateUi()
{
    const bool active = m_call && m_call->state() != SoftphoneCall::State::Ended;
    m_callButton->setEnabled(!active);
    m_hangupButton->setEnabled(active);
    for (QPushButton *k : m_keys)
        k->setEnabled(m_call && m_call->state() == SoftphoneCall::State::InCall);
    m_server->setEnabled(!active);
    m_caller->setEnabled(!active);
    m_token->setEnabled(!active);
}

} // namespace vaani::softphone

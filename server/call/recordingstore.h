#pragma once
// RECORD_CALLS: writes call recordings to disk on its own thread. A session hands over one-second blocks
// (RecordingMixer) and never waits: append() takes a mutex for a queue push, and when the queue holds
// maxQueuedBytes already (a disk slower than the calls) the block is dropped and counted
// (vaani_recording_blocks_dropped_total) — no caller frame is ever delayed by a recording.
//
// Files: <dir>/<UTC date>/<CallSid>.wav, mode 0600 in directories of mode 0700; with a data key
// (VAANI_DATA_KEY_FILE) <CallSid>.wav.sealed, sealed with it (recordingfile.h). The store reports each
// recording's final state to the call's record itself (through the journal, so it also lands when the
// database is away): 'complete' with its length, 'failed' when the disk refused it, 'declined' (the file is
// deleted) when the caller said no.
// Retention: removeOlderThan() deletes the date folders older than a cutoff; remove() one file (a caller's
// erasure).
//
// Threads: every public function from any thread; the file work on the store's thread.

#include "db/datacipher.h"
#include "recordingfile.h"

#include <QDate>
#include <QString>
#include <QStringList>

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace vaani {

class Metrics;
class RecordJournal;

class RecordingStore
{
public:
    struct Options
    {
        QString dir; // RECORDINGS_DIR (default <data dir>/recordings)
        std::shared_ptr<const db::DataCipher> cipher;
        qint64 maxQueuedBytes = 32LL * 1024 * 1024; // about 2000 call-seconds of audio waiting for the disk
    };
    using Handle = quint64;

    RecordingStore(Options options, Metrics *metrics, RecordJournal *journal);
    ~RecordingStore(); // writes out what is queued and closes every file (complete), then stops the thread
    RecordingStore(const RecordingStore &) = delete;
    RecordingStore &operator=(const RecordingStore &) = delete;

    // Creates the directory (mode 0700) and starts the thread; false with `error` when it is not writable.
    bool open(QString *error);
    const QString &dir() const { return m_options.dir; }
    // SIGHUP's new data keys: recordings begun from now on are sealed with the new current key.
    void setCipher(std::shared_ptr<const db::DataCipher> cipher);

    // A new recording for this call (the record's writer id, for its final state); its path relative to
    // dir(), as stored in the call record, in `relativePath`.
    Handle begin(const QString &callSid, const QString &writerId, QString *relativePath);
    // Interleaved stereo μ-law; dropped (and counted) when the queue is full.
    void append(Handle handle, QByteArray block);
    // The call is over (keep) or the caller declined recording (!keep: the file is deleted).
    void end(Handle handle, bool keep, qint64 durationMs);
    // Retention and erasure, on the store's thread; `done` runs there with how many files went.
    void remove(const QStringList &relativePaths, std::function<void(int deleted)> done = {});
    void removeOlderThan(const QDate &cutoff, std::function<void(int deleted)> done = {});
    // Blocks until everything queued so far is on disk (tests; the event loop never calls it).
    void flush();

    static QString safeName(const QString &callSid);

private:
    struct Op
    {
        enum class Kind { Begin, Append, End, Remove, RemoveOlder } kind;
        Handle handle = 0;
        QByteArray bytes;
        QString path;                                 // Begin: relative path
        std::shared_ptr<const db::DataCipher> cipher; // Begin
        QString callSid, writer;
        bool keep = true;
        qint64 ms = 0;
        QStringList paths;
        QDate cutoff;
        std::function<void(int)> done;
    };
    struct File
    {
        int fd = -1;
        std::unique_ptr<RecordingEncoder> encoder;
        QString path; // relative
        QString callSid, writer;
        qint64 audioBytes = 0;
        bool failed = false;
    };
    void run();
    void push(Op op);
    void handle(Op &op);
    Options m_options;
    Metrics *m_metrics;
    RecordJournal *m_journal;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_idle;
    std::deque<Op> m_queue;
    qint64 m_queuedBytes = 0;
    bool m_busy = false;
    bool m_stop = false;
    Handle m_nextHandle = 1;
    std::thread m_thread;
    std::unordered_map<Handle, File> m_files; // the store's thread only
};

} // namespace vaani

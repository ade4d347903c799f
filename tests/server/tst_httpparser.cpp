// http::RequestParser from byte fixtures: every framing rule and cap, each input fed whole, a byte at a time
// and split at every position (the answer must not depend on how TCP cut the bytes).
#include "httpparser.h"

#include <QTest>

using namespace vaani;
using namespace Qt::StringLiterals;

namespace {

struct Outcome
{
    http::RequestParser::Status status = http::RequestParser::Status::NeedMore;
    int error = 0;
    QList<http::Request> requests;
    qsizetype consumed = 0;
};

// Feeds `pieces` in order; collects complete requests (taking each) until an error or the end.
Outcome run(const QList<QByteArray> &pieces, http::Limits limits = {})
{
    http::RequestParser p(limits);
    Outcome o;
    for (const QByteArray &piece : pieces) {
        QByteArrayView rest(piece);
        while (!rest.isEmpty()) {
            const qsizetype used = p.feed(rest);
            o.consumed += used;
            rest = rest.sliced(used);
            if (p.status() == http::RequestParser::Status::Error) {
                o.status = p.status();
                o.error = p.errorStatus();
                return o;
            }
            if (p.status() == http::RequestParser::Status::Complete)
                o.requests << p.take();
            else if (used == 0)
                return o; // cannot happen: a parser that needs more consumes everything
        }
    }
    o.status = p.status();
    return o;
}

QList<QByteArray> bytewise(const QByteArray &b)
{
    QList<QByteArray> out;
    for (char c : b)
        out << QByteArray(1, c);
    return out;
}

const QByteArray kForm = "POST /incoming-call?x=1 HTTP/1.1\r\nHost: a\r\nContent-Type: "
                         "application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\nA=1&B=2";

} // namespace

class TestHttpParser : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void requestsFromFixtures_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<int>("error");       // 0: no error
        QTest::addColumn<int>("requests");    // complete requests before the end or the error
        QTest::addColumn<QByteArray>("body"); // of the last complete request

        QTest::newRow("form post") << kForm << 0 << 1 << QByteArray("A=1&B=2");
        QTest::newRow("get, no body")
            << QByteArray("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n") << 0 << 1 << QByteArray();
        QTest::newRow("pipelined") << kForm + "GET /readyz HTTP/1.1\r\nHost: a\r\n\r\n"
                                   << 0 << 2 << QByteArray();
        QTest::newRow("leading empty lines") << "\r\n\r\n" + kForm << 0 << 1 << QByteArray("A=1&B=2");
        QTest::newRow("http/1.0 without host")
            << QByteArray("GET / HTTP/1.0\r\n\r\n") << 0 << 1 << QByteArray();
        QTest::newRow("chunked") << QByteArray(
                                        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                                        "3;ext=1\r\nA=1\r\n4\r\n&B=2\r\n0\r\nX-Trailer: t\r\n\r\n")
                                 << 0 << 1 << QByteArray("A=1&B=2");
        QTest::newRow("chunked, upper-case hex")
            << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
                          "Chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n")
            << 0 << 1 << QByteArray("0123456789");
        QTest::newRow("incomplete body") << kForm.chopped(2) << 0 << 0 << QByteArray();

        // Refused.
        QTest::newRow("content-length over the cap")
            << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 300000000\r\n\r\n") << 413 << 0
            << QByteArray();
        QTest::newRow("content-length 2^64")
            << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\n") << 413
            << 0 << QByteArray();
        QTest::newRow("content-length sign")
            << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n") << 400 << 0
            << QByteArray();
        QTest::newRow("content-length list")
            << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n") << 400 << 0
            << QByteArray();
        QTest::newRow("conflicting lengths")
            << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n")
            << 400 << 0 << QByteArray();
        QTest::newRow("length and chunked")
            << QByteArray(
                   "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n")
            << 400 << 0 << QByteArray();
        QTest::newRow("other coding")
            << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n") << 501
            << 0 << QByteArray();
        QTest::newRow("chunks over the cap")
            << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n8000\r\n") +
                   QByteArray(0x8000, 'a') + "\r\n8001\r\n"
            << 413 << 0 << QByteArray();
        QTest::newRow("chunk size overflow")
            << QByteArray(
                   "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff1\r\n")
            << 413 << 0 << QByteArray();
        QTest::newRow("chunk size not hex")
            << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n") << 400
            << 0 << QByteArray();
        QTest::newRow("chunk data too long")
            << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n")
            << 400 << 0 << QByteArray();
        QTest::newRow("endless chunk line")
            << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;") +
                   QByteArray(2000, 'x')
            << 400 << 0 << QByteArray();
        QTest::newRow("head too large")
            << "GET / HTTP/1.1\r\nHost: a\r\nX: " + QByteArray(9000, 'x') << 431 << 0 << QByteArray();
        QByteArray many = "GET / HTTP/1.1\r\nHost: a\r\n";
        for (int i = 0; i < 70; ++i)
            many += "X" + QByteArray::number(i) + ": y\r\n";
        QTest::newRow("too many fields") << many + "\r\n" << 431 << 0 << QByteArray();
        QTest::newRow("bare LF") << QByteArray("GET / HTTP/1.1\nHost: a\r\n\r\n") << 400 << 0 << QByteArray();
        QTest::newRow("obsolete folding")
            << QByteArray("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n") << 400 << 0 << QByteArray();
        QTest::newRow("space before colon")
            << QByteArray("GET / HTTP/1.1\r\nHost : a\r\n\r\n") << 400 << 0 << QByteArray();
        QTest::newRow("control character")
            << QByteArray("GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n") << 400 << 0 << QByteArray();
        QTest::newRow("absolute form")
            << QByteArray("GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n") << 400 << 0 << QByteArray();
        QTest::newRow("space in target")
            << QByteArray("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n") << 400 << 0 << QByteArray();
        QTest::newRow("no host") << QByteArray("GET / HTTP/1.1\r\n\r\n") << 400 << 0 << QByteArray();
        QTest::newRow("two hosts") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") << 400 << 0
                                   << QByteArray();
        QTest::newRow("http/2") << QByteArray("GET / HTTP/2.0\r\nHost: a\r\n\r\n") << 505 << 0
                                << QByteArray();
        QTest::newRow("garbage version")
            << QByteArray("GET / HTTX/1.1\r\nHost: a\r\n\r\n") << 400 << 0 << QByteArray();
        QTest::newRow("good then bad") << kForm + "BAD\r\n\r\n" << 400 << 1 << QByteArray("A=1&B=2");
    }

    void requestsFromFixtures()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(int, error);
        QFETCH(int, requests);
        QFETCH(QByteArray, body);
        http::Limits limits; // 8 KiB head, 64 fields, 64 KiB body
        QList<QList<QByteArray>> feeds = {{bytes}, bytewise(bytes)};
        for (qsizetype cut = 1; cut < bytes.size() && bytes.size() < 400; ++cut)
            feeds << QList<QByteArray>{bytes.left(cut), bytes.mid(cut)};
        for (const auto &pieces : std::as_const(feeds)) {
            const Outcome o = run(pieces, limits);
            QCOMPARE(o.error, error);
            QCOMPARE(o.requests.size(), requests);
            if (requests > 0)
                QCOMPARE(o.requests.last().body, body);
        }
    }

    void fieldsOfARequest()
    {
        const Outcome o = run({kForm});
        QCOMPARE(o.requests.size(), 1);
        const http::Request &r = o.requests.first();
        QCOMPARE(r.method, QByteArray("POST"));
        QCOMPARE(r.target, QByteArray("/incoming-call?x=1"));
        QCOMPARE(r.path, QByteArray("/incoming-call"));
        QCOMPARE(r.query, QByteArray("x=1"));
        QCOMPARE(r.value("content-type"), QByteArray("application/x-www-form-urlencoded"));
        QVERIFY(r.keepAlive());
        QCOMPARE(r.url(), QUrl(u"http://a/incoming-call?x=1"_s));
        // Percent-encoding is never decoded: routes see the bytes as sent.
        const Outcome encoded =
            run({"POST /%69ncoming-call HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"});
        QCOMPARE(encoded.requests.first().path, QByteArray("/%69ncoming-call"));
        const Outcome close = run({"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"});
        QVERIFY(!close.requests.first().keepAlive());
        const Outcome old = run({"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"});
        QVERIFY(!old.requests.first().keepAlive());
    }

    void capsHoldBeforeMemoryIsSpent()
    {
        // The head buffer never grows past the cap, however much arrives in one piece.
        http::RequestParser p;
        const QByteArray flood = "GET / HTTP/1.1\r\nX: " + QByteArray(1 << 20, 'x');
        const qsizetype used = p.feed(flood);
        QCOMPARE(p.status(), http::RequestParser::Status::Error);
        QCOMPARE(p.errorStatus(), 431);
        QVERIFY(used <= 8193);
        // The body is refused from its header, before a byte of it is read.
        http::RequestParser q;
        const QByteArray head = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 65537\r\n\r\n";
        QCOMPARE(q.feed(QByteArray(head + "abc")), head.size());
        QCOMPARE(q.errorStatus(), 413);
    }

    void expectContinue()
    {
        http::RequestParser p;
        p.feed("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
        QCOMPARE(p.status(), http::RequestParser::Status::NeedMore);
        QVERIFY(p.expectsContinue());
        p.feed("abc");
        QCOMPARE(p.status(), http::RequestParser::Status::Complete);
        QCOMPARE(p.take().body, QByteArray("abc"));
        QVERIFY(!p.inRequest());
    }
};

QTEST_GUILESS_MAIN(TestHttpParser)
#include "tst_httpparser.moc"

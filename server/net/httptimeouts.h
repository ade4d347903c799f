#pragma once
// The deadlines of an HTTP connection (see httpconnection.h), as a plain struct the settings can carry.

namespace vaani::http {

struct Timeouts
{
    int firstRequestMs = 10000;
    int headMs = 10000;
    int requestMs = 30000;
    int keepAliveMs = 30000;
    int writeMs = 10000;
    int lingerMs = 2000; // reading and discarding after our answer, before the descriptor closes
    int answerMs = 5000; // a deferred answer (Response::defer) must come within this, else 503
};

} // namespace vaani::http

#include "config.h"

using namespace Qt::StringLiterals;

int main(int argc, char **argv)
{
    vaani::Config config;
    return config.loadForMain(vaani::App::Server, u"vaani-server"_s, u"x"_s, argc, argv);
}

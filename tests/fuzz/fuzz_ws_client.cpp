#define VAANI_FUZZ_CLIENT_ROLE true
#include "fuzz_ws_frames.inc"

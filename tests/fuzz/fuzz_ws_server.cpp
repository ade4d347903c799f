#define VAANI_FUZZ_CLIENT_ROLE false
#include "fuzz_ws_frames.inc"

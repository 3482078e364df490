#ifndef CHIREDIS_SHIM_H
#define CHIREDIS_SHIM_H
// hiredis 0.14.1 (Debian's libhiredis-dev): protocol encoder and reply reader.
#include <hiredis/hiredis.h>
#include <hiredis/read.h>
#endif

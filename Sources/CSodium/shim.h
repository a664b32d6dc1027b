#ifndef CHARTER_CSODIUM_SHIM_H
#define CHARTER_CSODIUM_SHIM_H
#include <sodium.h>
#endif

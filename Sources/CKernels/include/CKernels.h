#ifndef CKERNELS_H
#define CKERNELS_H
/// Umbrella header for Spate's C kernels. Each family has its own header.
#include "ck_dispatch.h"
#if __has_include("ck_filter.h")
#include "ck_filter.h"
#endif
#if __has_include("ck_hash.h")
#include "ck_hash.h"
#endif
#if __has_include("ck_agg.h")
#include "ck_agg.h"
#endif
#if __has_include("ck_window.h")
#include "ck_window.h"
#endif
#if __has_include("ck_arith.h")
#include "ck_arith.h"
#endif
#if __has_include("ck_csv.h")
#include "ck_csv.h"
#endif
#if __has_include("ck_group.h")
#include "ck_group.h"
#endif
#if __has_include("ck_json.h")
#include "ck_json.h"
#endif
#if __has_include("ck_binary.h")
#include "ck_binary.h"
#endif
#if __has_include("ck_checksum.h")
#include "ck_checksum.h"
#endif
#if __has_include("ck_capture.h")
#include "ck_capture.h"
#endif
#if __has_include("ck_hll.h")
#include "ck_hll.h"
#endif
#endif

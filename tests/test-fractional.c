/* test-fractional.c
 *
 * Fractional indexing (OPERATIONS.md §13): the documented examples, the
 * validation errors, sort and heal, results recorded from the reference
 * implementation (@dabble/patches 0.28.1 under Node.js 20) on random
 * inputs, and a randomized property test of insertions into a sorted list.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "patches-error.h"
#include "patches-fractional.h"
#include "patches-value.h"

#define SMALLEST_INTEGER "A00000000000000000000000000"
#define LARGEST_INTEGER  "zzzzzzzzzzzzzzzzzzzzzzzzzzz"

typedef struct
{
  const char *a;
  const char *b;
  int         count;    /* -1: patches_fractional_key_between() */
  const char *expect;   /* the key, or the keys joined by '|'; NULL: error */
  const char *message;  /* the error message when @expect is NULL */
} BetweenCase;

typedef struct
{
  const char *a;
  const char *b;
  int         sign;
} CollateCase;

typedef struct
{
  const char *items;    /* JSON object */
  const char *field;
  const char *sorted;   /* JSON array of keys */
  const char *healed;   /* JSON fixes or null; NULL: error */
  const char *message;
} OrderCase;

/* Recorded from the reference on random inputs (keys made of base-62
 * digits, boundary integers, malformed keys, and keys holding characters
 * that are not digits, which the reference handles in its own way). */
static const BetweenCase between_cases[] = {
  { "", "czzzMI", -1, "czzz", NULL },
  { "a000u", "rvXpev7WetxpaxxYo0VYQ", -1, "a1", NULL },
  { "a0", "oc8V9DrebxEnBTBR1", -1, "a1", NULL },
  { "c000", "ZmQvM", -1, "Zn", NULL },
  { "cZqzzzz", "bjxm", -1, "bjy", NULL },
  { "c000zzz", "hWOurWuHU", -1, "c001", NULL },
  { "X00gz", "b12", -1, "X00h", NULL },
  { "Zi", "aHhdg", -1, "Zj", NULL },
  { "Z0z7", "ezzzz3", -1, "Z1", NULL },
  { "Zz1", "ZhXSfojZ", -1, "Zi", NULL },
  { "Yrn", "Yro", -1, "YrnV", NULL },
  { "", "M00u0v0n0000j00", -1, "M00u0v0n0000izz", NULL },
  { "iY0FzZmsfQ", "iY0FzZmsfQV", -1, "iY0FzZmsfQG", NULL },
  { "DOAuIlTfrsJlZfzncN0otoGavz", "b00N", -1, "DOAuIlTfrsJlZfzncN0otoGb", NULL },
  { "X000gRQ", "X001", -1, "X000q", NULL },
  { "bzz", "azQi6", -1, "b00", NULL },
  { "YZG6jD", "ZJ00t", -1, "YZH", NULL },
  { "bazij", "bazr", -1, "bazn", NULL },
  { "XtAbKj", "b0Xzz", -1, "XtAc", NULL },
  { "XzCz", "XzCzV", -1, "XzCzG", NULL },
  { "a0", "a1", -1, "a0V", NULL },
  { "ut8FA2dIqDqyBJb6wsAeOi", "YzQjf", -1, "YzR", NULL },
  { "J00d000rM00Q000000", "J00d000rM00Q000001", -1, "J00d000rM00Q000000V", NULL },
  { "Yue", "cJjR", -1, "Yuf", NULL },
  { "Y00", "a07", -1, "Y01", NULL },
  { "aS", "Y78", -1, "Y79", NULL },
  { "WzzzYlI", "Xnf7", -1, "WzzzZ", NULL },
  { "LPcSFMqtfCh0ETpdi", "Y0H", -1, "LPcSFMqtfCh0ETpe", NULL },
  { "a1", "bzzzbz", -1, "a2", NULL },
  { "fbl0000LE", "EGV8a6LpxDJJs4LuL6IKZX2zuz", -1, "EGV8a6LpxDJJs4LuL6IKZX3", NULL },
  { "z00000Q00000000000kZ00q050l", "Zf", -1, "Zg", NULL },
  { "d5hXiS", "azYVL", -1, "b00", NULL },
  { "z000000000000000040400o0000RObS0ea", "b42000k", -1, "b43", NULL },
  { "lw2TB2qeoqeX34", "Y00", -1, "Y01", NULL },
  { "ZzR", "rzzzEzzzzzzzzzmzzCz", -1, "a0", NULL },
  { "bzzhO", "aQ", -1, "aR", NULL },
  { "b6fA5", "b6g", -1, "b6fa", NULL },
  { "XVlOm", "XVlP", -1, "XVlOt", NULL },
  { "bCjkxr", "ywsklfu261lmLi67a06yfMouRY", -1, "bCk", NULL },
  { "Uzzzzzz", "c2SY", -1, "V00000", NULL },
  { "ZzM7", "XzXzRN", -1, "XzY0", NULL },
  { "bge", "bgf", -1, "bgeV", NULL },
  { "gjGqMMGe", "a1", -1, "a2", NULL },
  { "az", "azV", -1, "azG", NULL },
  { "bclFSDmMy", "fPLfyDJ", -1, "bcm", NULL },
  { "fZ00000iw", "az", -1, "b00", NULL },
  { "bqe", "XVDi", -1, "XVDj", NULL },
  { "Zz", "a0", -1, "ZzV", NULL },
  { "JHWZAxeS8q1bFRrZf4", "Ypy", -1, "JHWZAxeS8q1bFRrZf5", NULL },
  { "czdzTDh", "czdzk", -1, "czdzc", NULL },
  { "Yf7ss", "vxzzzzzzzzzCFozzzLz8nzzIa", -1, "Yf8", NULL },
  { "b00001", "LzzzzzzZzzzzG000", -1, "LzzzzzzZzzzzG001", NULL },
  { "yqnIyFoJRYvcYWE6jQnutV9YYk23S", "a0", -1, "a1", NULL },
  { "Zi9eFyOlS", "XC2N", -1, "XC2O", NULL },
  { "aBW", "aC", -1, "aBl", NULL },
  { "aS09t", "iR00G00000", -1, "aT", NULL },
  { "S00000000MH", "weu6VCglwcf6EcoKQDFA4e34000n", -1, "S00000001", NULL },
  { "c3Xa", "RbGR2Vv1H2P8", -1, "RbGR2Vv1H3", NULL },
  { "Yezzz", "kzzzzzzPzzzz", -1, "Yf0", NULL },
  { "YhA", "aiz", -1, "YhB", NULL },
  { "a0", "czzz181", -1, "a1", NULL },
  { "YL57V", "bMd", -1, "YL6", NULL },
  { "ZzK", "zzzzzzzzzzzzzzzzzzzzzzzzzzzV", -1, "a0", NULL },
  { "DPgC7um2vhNnn3xXWBhnSDTJpkj", "ZM", -1, "DPgC7um2vhNnn3xXWBhnSDTK", NULL },
  { "czzzO", "a0", -1, "a1", NULL },
  { "aWf", "c9HFzzz", -1, "aX", NULL },
  { "azvj", "Y00", -1, "Y01", NULL },
  { "uz0zzztzz54zpzzzzLzzzz", "U41gQzqlw", -1, "U41gQzr", NULL },
  { "aDzzCVz", "qzzzzSzzzzzzzPzzzzzzz", -1, "aE", NULL },
  { "Ozzjzzzjzz5zz", "RzzzOfzXzz0x", -1, "Ozzjzzzjzz600", NULL },
  { "uHzzzzzzXzzzzzzzzzzzzz", "bzO", -1, "bzP", NULL },
  { "Yp0M", "Zz", -1, "Yp1", NULL },
  { "cxLT", "oOKV2PPsBSVMTUAOzzk", -1, "cxLU", NULL },
  { "Yc80d", "czzAxP", -1, "Yc9", NULL },
  { "bzd", "bze", -1, "bzdV", NULL },
  { "XoVz7u", "kt3jfMEldtfF", -1, "XoW0", NULL },
  { "JAwjNt9EEgnz1l3NhiNBhPtO", "bnR", -1, "JAwjNt9EEgnz1l3Nhj", NULL },
  { "Zz", "ZzV", -1, "ZzG", NULL },
  { "ZF", "aq0HO", -1, "ZG", NULL },
  { "pI3SayH7194zJ4iVH", "pI3SayH7194zJ4iVI", -1, "pI3SayH7194zJ4iVHV", NULL },
  { "aQ", "aQV", -1, "aQG", NULL },
  { "Y0u", "b00", -1, "Y0v", NULL },
  { "cYfP", "m0000000Af40008BE", -1, "cYfQ", NULL },
  { "SIHuRCpLIj", "SIHuRCpLJ", -1, "SIHuRCpLIs", NULL },
  { "bCWusN", "zzzzzzzzzzzzzzzzzzzzzzzzzzzV", -1, "bCX", NULL },
  { "b00", "JdpMjKgy8MklCDtX9Rz", -1, "JdpMjKgy8MklCDtX9S", NULL },
  { "YjO", "mfx8tiZirAaY7sz", -1, "YjP", NULL },
  { "ci0O", "anK", -1, "ao", NULL },
  { "czzzzz", "zzJzzzzpCzzzzzzzCzzzxz9zzzSw75", -1, "d0000", NULL },
  { "aBa", "ZP", -1, "ZQ", NULL },
  { "h0C000aX0", "ab", -1, "ac", NULL },
  { "a0x", "t600060M00O00000Wm700", -1, "a1", NULL },
  { "bAxvpG", "bAy", -1, "bAxy", NULL },
  { "zzzzzzzzzzzzzzzzzzzzzzzzzzz", "bPyPvM", -1, "bPz", NULL },
  { "aqgpF", "ayz", -1, "ar", NULL },
  { "SMByYIVR7", "GvbIgHJGEZjkZ0sBGAtcBm", -1, "GvbIgHJGEZjkZ0sBGAtcC", NULL },
  { "d6q2y", "LSkalEuHlalymjhg9t", -1, "LSkalEuHlalymjhh", NULL },
  { "csNm0t", "csNmV", -1, "csNmG", NULL },
  { "Y00", "az", -1, "Y01", NULL },
  { "c000", "bzz", -1, "bzzV", NULL },
  { "PzQmzzzzzzzzknzd", "Z0", -1, "PzQn00000000", NULL },
  { "bb6AX", "afsp", -1, "ag", NULL },
  { "boux5", "bov", -1, "bouz", NULL },
  { "Bxpj7dIHn0xyfvQDN5PMu4IwCI", "Bxpj7dIHn0xyfvQDN5PMu4IwCJ", -1, "Bxpj7dIHn0xyfvQDN5PMu4IwCIV", NULL },
  { "aj08", "aGzz", -1, "aH", NULL },
  { "bY0n", "bY0u", -1, "bY0r", NULL },
  { "c2oB", "EGC3ETbpHQYWbggQaChheoGzc", -1, "EGC3ETbpHQYWbggQaChheoH", NULL },
  { "b0Q", "YbUzaz", -1, "YbV", NULL },
  { "bK3X", "C00000000k0000000U0200000FZ", -1, "C00000000k0000000U0200001", NULL },
  { "Ye0", "aPzz", -1, "Ye1", NULL },
  { "O9hDHqtVBKS9dz", "O9hDHqtVBKS9dzV", -1, "O9hDHqtVBKS9dzG", NULL },
  { "Xzpyd7", "Rzzz7zzzzzh", -1, "Rzzz800000", NULL },
  { "Izzzzzzizzzzzzzzz1z", "Fd8NnolQ34NjuZZHUgeOLzp6", -1, "Fd8NnolQ34NjuZZHUgeOM0", NULL },
  { "YfA", "A00000000000000000000000000", -1, "A00000000000000000000000001", NULL },
  { "YdE3mB", "kYXpjkfXM2xSz", -1, "YdF", NULL },
  { "lZq32NgTEsFQdP", "D0000h0000000N0C00000A0q", -1, "D0000h0000000N0C00000A0r", NULL },
  { "YMcbor", "YQc00Y", -1, "YMd", NULL },
  { "EmlMMUHLySVjnAHxHbhRTbR", "EmlMMUHLySVjnAHxHbhRTbS", -1, "EmlMMUHLySVjnAHxHbhRTbRV", NULL },
  { "bCyHjm", "FMbZbEB3QNzpUrN0bgz72e", -1, "FMbZbEB3QNzpUrN0bgz72f", NULL },
  { "Zn69e", "Yzjl0fDb0V", -1, "Yzk", NULL },
  { "ZX", "X1U6zzzzzzz", -1, "X1U7", NULL },
  { "aN", "Yzzn", -1, "Z0", NULL },
  { "ZWQ", "zzzRzzzzzzzzzuzNzzzTzwzzzzzOg", -1, "ZX", NULL },
  { "aiNIy", "aih", -1, "aiX", NULL },
  { "Hzzzznezzzzzzzzzzzzz", "bHe", -1, "Hzzzznf0000000000000", NULL },
  { "DqweI6a6EGjtVxBGR3pr3lXt0T", "a0z", -1, "DqweI6a6EGjtVxBGR3pr3lXu", NULL },
  { "r0ni000O0G000000000ZJ", "r0ni000O0G000000001", -1, "r0ni000O0G000000000n", NULL },
  { "Jz3zzhzd4zzzzzizzm", "baZ", -1, "Jz3zzhzd4zzzzzizzn", NULL },
  { "ZoZ", "ax", -1, "Zp", NULL },
  { "ZzF8", "a0", -1, "Zzd", NULL },
  { "bdJ", "bqz", -1, "bdK", NULL },
  { "bArZ", "gzzrzzz7r0Y", -1, "bAs", NULL },
  { "ZW", "M0080MB00L0S000zz", -1, "M0080MB00L0S001", NULL },
  { "Eu0w0w0500ju00007000000zzz", "KzfDzzzzzzzzz0Azz0R", -1, "Eu0w0w0500ju00007000001", NULL },
  { "iUDfQ8hfRJ", "h0000000j", -1, "h0000000k", NULL },
  { "baw4oS", "af", -1, "ag", NULL },
  { "ZMK", "Yu0", -1, "Yu1", NULL },
  { "iXAO60UYp8zzz", "iXAO60UYp8zzzV", -1, "iXAO60UYp8zzzG", NULL },
  { "c000", "wzzzzzzzzzzzzzzzzzzzzzbz", -1, "c001", NULL },
  { "cpSDgl", "Ab3HMICDnU6Z8WluFff5YMPSPmnLb7", -1, "Ab3HMICDnU6Z8WluFff5YMPSPmo", NULL },
  { "XLsC", "XLsD", -1, "XLsCV", NULL },
  { "ac", "acV", -1, "acG", NULL },
  { "GObzszzzzzzzzzzzzzzzz", "ZLNmC", -1, "GObzt0000000000000000", NULL },
  { "XTzz", "XU00", -1, "XTzzV", NULL },
  { "XZy67Y", "lzzzzzpzzzzzFq", -1, "XZy7", NULL },
  { "YOVG", "a0s", -1, "YOW", NULL },
  { "yzr3k66YnCOZ89sQWh6L8OQA7L7Ir", "uzzzzzzzzwz0z7zXz4zzNz", -1, "uzzzzzzzzwz0z7zXz4zzO0", NULL },
  { "XN4Nv", "Z9Mf", -1, "XN4O", NULL },
  { "Yzz", "ZX", -1, "Z0", NULL },
  { "bzz", "c000", -1, "bzzV", NULL },
  { "uzzzzzzzzzznzzLzzzzzzzgw", "uzzzzzzzzzznzzLzzzzzzzq", -1, "uzzzzzzzzzznzzLzzzzzzzl", NULL },
  { "Gkazzz3zzOzzztzJWzCzz", "GzzzzlJzzfzWzzzz4zzzvP", -1, "Gkazzz3zzOzzztzJWzD00", NULL },
  { "bd0KXL", "Z30O", -1, "Z4", NULL },
  { "ozz9z6Azzzzzzzz4zzz", "Ys6", -1, "Ys7", NULL },
  { "J00000000000000000sx", "aUD", -1, "J00000000000000001", NULL },
  { "ZAs0CnL", "ZB", -1, "ZAw", NULL },
  { "s38ZWvOj1Bpn7bU8f1ZJluy9p", "s38ZWvOj1Bpn7bU8f1ZJt", -1, "s38ZWvOj1Bpn7bU8f1ZJp", NULL },
  { "ZGzzz", "ZH", -1, "ZGzzzV", NULL },
  { "aS", "yKGv002AWt9lywMWNfz9G6d02O", -1, "aT", NULL },
  { "XzzPS", "ZIz", -1, "XzzQ", NULL },
  { "XiWF", "XiWFV", -1, "XiWFG", NULL },
  { "BZOO6MBEMTGXCGGAJIC0hQG9zG", "BZOO6MBEMTGXCGGAJIC0hQG9zH", -1, "BZOO6MBEMTGXCGGAJIC0hQG9zGV", NULL },
  { "HC6CgReAnV9rwufjsZ6k8my", "CttYZzAWoHpbGWjsIhMSOirWZ0z", -1, "CttYZzAWoHpbGWjsIhMSOirWa", NULL },
  { "coQB", "coQC", -1, "coQBV", NULL },
  { "a0", "a1", -1, "a0V", NULL },
  { "a0", "HzzzzzzzzzzTzzzzzPzz", -1, "HzzzzzzzzzzTzzzzzQ00", NULL },
  { "Yzz", "k000Jn000jd0", -1, "Z0", NULL },
  { "GfslF8LRd0aF3fhysP77ha", "g00M0000", -1, "GfslF8LRd0aF3fhysP77i", NULL },
  { "bzV", "JuQTFKtSnJk4MokWigB", -1, "JuQTFKtSnJk4MokWih", NULL },
  { "fzzzVzzR", "e0L006d5y", -1, "e0L007", NULL },
  { "Yzz", "ym4LgG2pYJoDtzizDDX26He1o0z", -1, "Z0", NULL },
  { "YI9", "U7j3qrZX", -1, "U7j3qra", NULL },
  { "XPTN", "XPTNV", -1, "XPTNG", NULL },
  { "cAjW", "Zz", -1, "a0", NULL },
  { "kzzT0zzzzzzzBc2n6", "arY", -1, "as", NULL },
  { "Zu0K", "Yzz", -1, "Z0", NULL },
  { "av9o", "H000000000b0000g8m00", -1, "H000000000b0000g8m01", NULL },
  { "kzzzzzzzzzzF", "bzz00W", -1, "c000", NULL },
  { "qzzzzzzzz9zzzzUzzz", "bbdKz", -1, "bbe", NULL },
  { "L5N1ZvyPusWVoXgz", "L5N1ZvyPusWVoXgzV", -1, "L5N1ZvyPusWVoXgzG", NULL },
  { "ZzG", "cDsd", -1, "a0", NULL },
  { "Yn0zzzz", "a400000l", -1, "Yn1", NULL },
  { "Z0", "X4NA", -1, "X4NB", NULL },
  { "c000", "c001", -1, "c000V", NULL },
  { "ZFeLH", "Zt0v", -1, "ZG", NULL },
  { "Zp003", "b0Y", -1, "Zq", NULL },
  { "rzzzzzzvzzzwzzzCzzz", "a0", -1, "a1", NULL },
  { "YQJ00q00z", "Zs", -1, "YQK", NULL },
  { "XzwW", "XzwWV", -1, "XzwWG", NULL },
  { "c2jsrWm", "cqwr6d4", -1, "c2jt", NULL },
  { "aX", "Z0", 2, "Z2|Z1", NULL },
  { "Rk65uGaGni5Nm", "czzz", 2, "Rk65uGaGniY|Rk65uGaGnj", NULL },
  { "YjVeEZ", "YjW", 4, "YjVh|YjVk|YjVp|YjVv", NULL },
  { "Hzzzzzzzzzzzzzizzzzzz", "Xk J", 5, "HzzzzzzzzzzzzzizzzzzzG|HzzzzzzzzzzzzzizzzzzzV|Hzzzzzzzzzzzzzj00000|Hzzzzzzzzzzzzzj00000V|Hzzzzzzzzzzzzzj00001", NULL },
  { "acp", "ad", 5, "acr|acs|acv|acx|acy", NULL },
  { "Zz", "ccpTfBJ", 7, "ZzG|ZzV|Zzl|a0|a0V|a1|a2", NULL },
  { "aLMZlhk", "aM", 9, "aLP|aLR|aLW|aLb|aLg|aLj|aLl|aLq|aLv", NULL },
  { "b0TCbX", "b0U", 2, "b0TP|b0Tb", NULL },
  { "PzzzzzzzzHfz0V", "bspo", 2, "PzzzzzzzzHfzV|PzzzzzzzzHg0", NULL },
  { "H00000000000000000007", "b00zgz", 10, "H0000000000000000000E|H0000000000000000000L|H0000000000000000000Z|H0000000000000000000g|H0000000000000000000n|H0000000000000000001|H0000000000000000001G|H0000000000000000001V|H0000000000000000002|H0000000000000000003", NULL },
  { "IHii1odePkAHwB7gi2l", "a0ifP", 11, "IHii1odePkAHwB7gi2l8|IHii1odePkAHwB7gi2lG|IHii1odePkAHwB7gi2lV|IHii1odePkAHwB7gi2ld|IHii1odePkAHwB7gi2ll|IHii1odePkAHwB7gi2m|IHii1odePkAHwB7gi2mG|IHii1odePkAHwB7gi2mV|IHii1odePkAHwB7gi2n|IHii1odePkAHwB7gi2nV|IHii1odePkAHwB7gi2o", NULL },
  { "ol00000000000E00VN", "coxHRzzzz", 5, "coxK|coxJ|coxI|coxHs|coxHj", NULL },
  { "bxf2", "cWzzh", 2, "bxfW|bxg", NULL },
  { "Yzz", "YzzV", 8, "Yzz2|Yzz4|Yzz8|YzzC|YzzG|YzzK|YzzO|YzzS", NULL },
  { "YNzU", "YO0", 7, "YNzY|YNzc|YNzg|YNzk|YNzo|YNzs|YNzw", NULL },
  { "au", "Yzz", 10, "Z3|Z2|Z1|Z0l|Z0V|Z0|Yzzt|Yzzl|YzzV|YzzG", NULL },
  { "X000", "X000V", 6, "X0004|X0008|X000C|X000G|X000K|X000O", NULL },
  { "ZN", "XSkix", 9, "XSkm|XSkl|XSkk|XSkjV|XSkj|XSkizl|XSkizV|XSkiz|XSkiy", NULL },
  { "czzz", "BAbNTBwSs7etB7WRT7HA74gW4j", 8, "BAbNTBwSs7etB7WRT7HA74gW4n|BAbNTBwSs7etB7WRT7HA74gW4m|BAbNTBwSs7etB7WRT7HA74gW4l|BAbNTBwSs7etB7WRT7HA74gW4kV|BAbNTBwSs7etB7WRT7HA74gW4k|BAbNTBwSs7etB7WRT7HA74gW4jl|BAbNTBwSs7etB7WRT7HA74gW4jV|BAbNTBwSs7etB7WRT7HA74gW4jG", NULL },
  { "YCb9H", "Yzz00c", 11, "YCbG|YCbN|YCba|YCbh|YCbn|YCc|YCcG|YCcV|YCd|YCdV|YCe", NULL },
  { "bt40P7", "XGOSDpq", 6, "XGOV|XGOU|XGOTV|XGOT|XGOSo|XGOSc", NULL },
  { "czzzx", "YUz", 11, "YV3|YV2|YV1|YV0l|YV0V|YV0|YUzt|YUzl|YUzV|YUzO|YUzG", NULL },
  { "kzzzzzzzzzzzo4c", "l000000000000", 7, "kzzzzzzzzzzzq|kzzzzzzzzzzzr|kzzzzzzzzzzzt|kzzzzzzzzzzzu|kzzzzzzzzzzzw|kzzzzzzzzzzzx|kzzzzzzzzzzzz", NULL },
  { "Eo0sgGmx84CKoBTh4Ljz3lO", "NBNkxZixMotPrv", 3, "Eo0sgGmx84CKoBTh4Ljz3lOV|Eo0sgGmx84CKoBTh4Ljz3lP|Eo0sgGmx84CKoBTh4Ljz3lQ", NULL },
  { "zzzzzzzzzzzzzzzzzzzzzzzzzzzV", "aRzzz", 4, "aU|aT|aS|aRzzzV", NULL },
  { "uGzxzzzBHzzzzzzzzzzKzzK5", "az", 9, "b03|b02|b01|b00V|b00|azt|azl|azV|azG", NULL },
  { "yzzzzNlzzzzzzzzzzz2zzz2zzzE", "CvI4BoNrrMmviCVbxjHgt0VFY", 2, "CvI4BoNrrMmviCVbxjHgt0VFa|CvI4BoNrrMmviCVbxjHgt0VFZ", NULL },
  { "bXXUT\303\277", "rss94VowgHikniGH8OsK", 8, "bXXY|bXXc|bXXk|bXXs|bXY|bXYV|bXZ|bXa", NULL },
  { "Yo6EZv", "YL\303\277p", 11, "YL3|YL2|YL1|YL0l|YL0V|YL0|YL0G|YL0V|YL1|YL1V|YL2", NULL },
  { "X000", "Y000000000A", 6, "X000G|X000V|X000l|X001|X001V|X002", NULL },
  { "YlC", "YlCV", 2, "YlC8|YlCG", NULL },
  { "Wzzzz", "X000", 10, "Wzzzz4|Wzzzz8|WzzzzG|WzzzzK|WzzzzO|WzzzzV|WzzzzZ|Wzzzzd|Wzzzzl|Wzzzzt", NULL },
  { "Y7u", "i0r0050000", 2, "Y7uV|Y7v", NULL },
  { "cv3Nm9", "ZF", 10, "ZJ|ZI|ZH|ZGl|ZGV|ZG|ZFt|ZFl|ZFV|ZFG", NULL },
  { "bPSkOLoq", "YJRKq", 4, "YJU|YJT|YJS|YJRf", NULL },
  { "a0y/", "ZH6t7AEYLM", 4, "ZK|ZJ|ZI|ZHY", NULL },
  { "YScM\303\251h", "vM2XjrZM5c7S4wZ3bh5FUJFHh", 8, "YScR|YScW|YScg|YScq|YSd|YSdV|YSe|YSf", NULL },
  { "a0", "l0000000O00V0z", 3, "a0V|a1|a2", NULL },
  { "Y7zAfe", "azLOe", 6, "Y7zN|Y7za|Y7zn|Y80|Y80V|Y81", NULL },
  { "czzz", "d0000", 2, "czzzG|czzzV", NULL },
  { "Yr0", "kWGKe6w~j_\304\200y", -1, "Yr1", NULL },
  { "Z0Up-txSN\303\251", "b4p", -1, "Z1", NULL },
  { "r31m5DQEvhLyJFaVxo2", "c39psL-xT", -1, "c39q", NULL },
  { "czzz\357\274\241/pzaUY", "d0000", -1, "czzzV", NULL },
  { "rzzzzzzzzzzRzzzzzzW6\304\200", "X-kY0Q", -1, "X-kZ", NULL },
  { "Xd-GlCb", "lzdzzzkzzzzzzYcR", -1, "Xd-H", NULL },
  { "Hzzzzzzzzzzzzzizzzzzz", "Xk J", 5, "HzzzzzzzzzzzzzizzzzzzG|HzzzzzzzzzzzzzizzzzzzV|Hzzzzzzzzzzzzzj00000|Hzzzzzzzzzzzzzj00000V|Hzzzzzzzzzzzzzj00001", NULL },
  { "gzzzzzzzE", "VcV7s\357\274\241fU_pH", -1, "VcV7s0", NULL },
  { "YC0a9kp68", "Xk\304\200QW", -1, "Xk\304\200R", NULL },
  { "GkCsuKYfa8SU0JTSQQa10CLGbJx\303\277{", "GkCsuKYfa8SU0JTSQQa11", -1, "GkCsuKYfa8SU0JTSQQa10b", NULL },
  { "cvzgg202uTRh", "ciK\304\200H", -1, "ciK0", NULL },
  { "a~zN", "cMWf0W", -1, "a0", NULL },
  { "yXaP2trrfRRIWKmrxREnO1gSitnuhKmlc", "bPk\304\200A", -1, "bPl", NULL },
  { "Yt\303\277H", "Z{", -1, "Yt0", NULL },
  { "UXeLdliM", "cy\304\200RiEh", -1, "UXeLdlj", NULL },
  { "YxeUo", "`D", 0, "", NULL },
  { "XjI_", "XjI0", -1, "XjI1", NULL },
  { "zzzzzzzzzzzzzzzzzzzzzzzzzzz", "c\357\274\241Z5", -1, "c\357\274\241Z6", NULL },
  { "czzz0Z", "bC4ac-", -1, "bC5", NULL },
  { "YCCZ E", "YPf", -1, "YCD", NULL },
  { "zzzzzzDzzzzzzzKazzzzzzzzzzz", "MfFi-/b9oDTiax\303\251W2", -1, "MfFi-/b9oDTiax0", NULL },
  { "npV7Ci-EQ5v8ZX{C", "X0d0iT", -1, "X0d1", NULL },
  { "ZY00k", "EqA5\303\251ZmtRBnQ5~m/~\303\277TmFuh", 1, "EqA5\303\251ZmtRBnQ5~m/~\303\277TmFui", NULL },
  { "Z0zz", "EH8r{vBvlgkv-XgEQe1xUL8T0VTLB", -1, "EH8r{vBvlgkv-XgEQe1xUL9", NULL },
  { "oZbgVUKL_3AjV/QA", "o0000v000700I0Qr000x000k", -1, "o0000v000700I0Qs", NULL },
  { "U2FwZh-U", "U2FwZh-k", -1, "U2FwZh-c", NULL },
  { "bzz9x9", "X!M1Gn", -1, "X!M2", NULL },
  { "cXBGEc{", "X-9IJnZBL", -1, "X-9J", NULL },
  { "c0LB", "du\304\200w ", -1, "c0LC", NULL },
  { "UNBN\303\251_i", "yK7mj\357\274\241b!!5{\304\200X\303\251WLY\303\251j-DuUW!ezzzdz", -1, "UNBN\303\251_j", NULL },
  { "Ya_mbY", "ad5g5", -1, "Ya0", NULL },
  { "a1", "al-", -1, "a2", NULL },
  { "X0~/", "X0~/V", -1, "X0~/G", NULL },
  { "Z0", "ETUp86sYRsA2cz-nbU8hp8t", -1, "ETUp86sYRsA2cz-nbU8hp8u", NULL },
  { "az5VeKOaGS", "FhcnWrOFSlM\303\277!qMLYhva7apA", -1, "FhcnWrOFSlM\303\277!qMLYhva7b", NULL },
  { "YqV", "sgEq6zwjkyC9{V\303\277I_s\357\274\2417z", -1, "YqW", NULL },
  { "b0K00x", "b z", -1, "b00", NULL },
  { "bVo6\303\251", "bVp", -1, "bVoY", NULL },
  { "b\304\200Qzzz", "c00vDzW", -1, "b\304\200R", NULL },
  { "TrKFif!ob", "r29IrASXTOLvkUcgf8HXz", -1, "TrKFif!p", NULL },
  { "Nzzzzzzzzzzztz", "9S0d", 5, NULL, "Invalid order key head: 9" },
  { "Z40", "ez4zzzJa", 1, NULL, "Invalid order key: Z40" },
  { "B00n000c000000000000000000zzzzz", "-v04", -1, NULL, "Invalid order key head: -" },
  { "I00XD00d00000P00002", "TevZz3hW0", -1, NULL, "Invalid order key: TevZz3hW0" },
  { "`A", "HMzzzzzzzzzzzzzz4zSz", -1, NULL, "Invalid order key head: `" },
  { "-0pl8", "X939k", -1, NULL, "Invalid order key head: -" },
  { "c0u", "rzzzz3zzEzzzzzzzzzz5b", -1, NULL, "Invalid order key: c0u" },
  { "Ho05tzujlovf48UOn6V5d", "`Zq", -1, NULL, "Invalid order key head: `" },
  { "invalid!", "pZJ0wp9wwVNCNqxQLfQJ", -1, NULL, "Invalid order key: invalid!" },
  { "IwSJBepXk28KWeaQgU1", "zz", -1, NULL, "Invalid order key: zz" },
  { "invalid!", "a0b", -1, NULL, "Invalid order key: invalid!" },
  { "-zz", "a0NU", -1, NULL, "Invalid order key head: -" },
  { "eZ\304\200u4z", "0a", 2, NULL, "Invalid order key head: 0" },
  { "-z", "c9e\357\274\2416", -1, NULL, "Invalid order key head: -" },
  { "a", "AQxXscOeS0zMIKtPU8B5jqxeoOxz", -1, NULL, "Invalid order key: a" },
  { "jnwtL8B4J", "Yzz", -1, NULL, "Invalid order key: jnwtL8B4J" },
  { "YNq", "`0OS", 1, NULL, "Invalid order key head: `" },
  { "b", "F00I2000R0000w00mQ3Q00", -1, NULL, "Invalid order key: b" },
  { "wOOqc8DCIjLtDfDFWnHRgcSj", "0a", -1, NULL, "Invalid order key head: 0" },
  { "bzzF3B", "Xvzz0A0000", 2, NULL, "Invalid order key: Xvzz0A0000" },
  { "`Io", "X000hzz", -1, NULL, "Invalid order key head: `" },
  { "BmNg9aYdZ9I0lXHpSK1Ee7UG41", "c0", -1, NULL, "Invalid order key: c0" },
  { "Yz", "0a", 11, NULL, "Invalid order key head: 0" },
  { "lzzhzzzzzzmNz0", "[B1s", -1, NULL, "Invalid order key head: [" },
  { "czBz0", "w7M0IiZXHv2Z58KJtJwEESl3", -1, NULL, "Invalid order key: czBz0" },
  { "az", "0M", -1, NULL, "Invalid order key head: 0" },
  { "9p00G", "XViRFoV", -1, NULL, "Invalid order key head: 9" },
  { "X000zzz", "`tOz", -1, NULL, "Invalid order key head: `" },
  { "c040", "\303\251Jpuq", -1, NULL, "Invalid order key head: \303\251" },
  { "xeDwO1cWxrFzOeVOClqQhEp", "lMQXGKzbQl \357\274\241b", 4, NULL, "Invalid order key: xeDwO1cWxrFzOeVOClqQhEp" },
};

static const CollateCase collate_cases[] = {
  { "`q8a", "`Q8a", -1 },
  { "ApG8", "", 1 },
  { "", "", 0 },
  { "G", "\001_", 1 },
  { "h\001", "h\001", 0 },
  { "a1 k", "a1 k", 0 },
  { "", "", 0 },
  { "B}", "", 1 },
  { "", "", 0 },
  { "@az-", "O_=", -1 },
  { "-a7c_", "-a7C_", -1 },
  { "", "&_", -1 },
  { "u\"h", "u\"h", 0 },
  { ":\001__A", ":\001__A", 0 },
  { " ", " ", 0 },
  { "J@", "\001_>A", 1 },
  { " &y", "s)_0", -1 },
  { "", "", 0 },
  { "_AVj", "_AVJ", -1 },
  { "\177_", "_x9", -1 },
  { "_]d\001", "", 1 },
  { "B", "K", -1 },
  { "", "", 0 },
  { "", "", 0 },
  { "e7K", "wa\001", -1 },
  { "", "A0", -1 },
  { "|0bb", "|0bB", -1 },
  { ".cD", "<Z+|", -1 },
  { "I", "f-", 1 },
  { "ObgA", "\0010Aa", 1 },
  { "*0-_", "", 1 },
  { "b\\&Q", "B\\&Q", -1 },
  { "aw", "", 1 },
  { "BJb", "kB)", -1 },
  { "\012_B0", "\012_b0", 1 },
  { "a", "a", 0 },
  { "AvJ ", "AvJ ", 0 },
  { "0-#", "0-#", 0 },
  { "J_ ", "j_ ", 1 },
  { "", "B\001", -1 },
  { "\" Bs", "\" bS", 1 },
  { "9C1", "~", 1 },
  { "", "", 0 },
  { "=0S", "-", 1 },
  { " U", " U", 0 },
  { "w _B", "w _b", 1 },
  { "b", "u\001", -1 },
  { "N^J", "", 1 },
  { "6_L\001", "\012", 1 },
  { " -_\012_", "B", -1 },
  { "", "_", -1 },
  { "4b", "5a0", -1 },
  { "ab,U", "ab,U", 0 },
  { "u", "o0Rbo", 1 },
  { "H", "\012)", 1 },
  { "Aaba", "Aaba", 0 },
  { "~nY-B", "~nY-b", 1 },
  { "ByI-r", "Byi-r", 1 },
  { "aRBFk", "", 1 },
  { "a-", "a-", 0 },
  { "\001", "  bF", -1 },
  { "=o1~", "\177-ab", 1 },
  { "\001>a", "\001", 1 },
  { ";b.A", ";B.A", -1 },
  { "a0", "a0", 0 },
  { "", "S\\/", -1 },
  { "^", "'z", 1 },
  { "2", "2", 0 },
  { "", "", 0 },
  { "b", "Bv8b", -1 },
  { "e\012", "b\001", 1 },
  { "bv\001A", "-", 1 },
  { "_A", "", 1 },
  { "", "@", -1 },
  { "An  -", "", 1 },
  { "^b", "", 1 },
  { "", "", 0 },
  { "", "_KZ", -1 },
  { "", "h|BM0", -1 },
  { ":JOS{", ":jOS{", 1 },
  { "g", "G", -1 },
  { "_p", "Ae_BA", -1 },
  { "\001b", "d", -1 },
  { "a\011_l-", "a\011_L-", -1 },
  { "2aH", "", 1 },
  { "-", "ad _", -1 },
  { "0 ", "", 1 },
  { "0\"A", "", 1 },
  { "90 ", "'!i", 1 },
  { "0_B", "*\011-G", 1 },
  { "_\001d0D", "_\001d0d", 1 },
  { "2Bx", "", 1 },
  { "[B5", "[B5", 0 },
  { "", "", 0 },
  { "ajr", "2", 1 },
  { "-a", "-a", 0 },
  { "", "_M", -1 },
  { "Qb", "qb", 1 },
  { "-U", "8|a", -1 },
  { "gd", "|A6", 1 },
  { "", "b0B", -1 },
  { "\001.lm", "=", -1 },
  { "[8A", "b", -1 },
  { "A!", "A!", 0 },
  { "sT)", "st)", 1 },
  { "b", "_\\", 1 },
  { "> u!a", "\\AG", 1 },
  { "e``", "\177-", 1 },
  { "", "", 0 },
  { "ABaBA", " EwBa", 1 },
  { "", "", 0 },
  { "!0A", "!0A", 0 },
  { "sXy>\012", "1R", 1 },
  { "AS", "xn", -1 },
  { "'{$", ")-_", -1 },
  { "_", ");@(m", -1 },
  { "\011 o_", "", 1 },
  { "-T b{", "-T b{", 0 },
  { "\\  2_", " _-Q", 1 },
  { "", "(-)", -1 },
  { "P", "p", 1 },
  { "A0}", "A0}", 0 },
  { "_ \001I", "`/Y", -1 },
  { "_RsT2", "", 1 },
  { "0yE", "0yE", 0 },
  { "!eU", "A#mb", -1 },
  { "B", "\001-9", 1 },
  { "0B\001-B", "Cv\001", -1 },
  { "", "0", -1 },
  { "eb", "\0010BA", 1 },
  { "/QQ", "ab", -1 },
  { "xMl\001A", "$_bM", 1 },
  { "0kKa", "a_=", -1 },
  { "!gPBC", "Kt", -1 },
  { "B", "%b", 1 },
  { "_\001q3", "_\001q3", 0 },
  { "aA", "A\001m", -1 },
  { "B _ ", "_wA p", 1 },
  { "\001zA", "", 1 },
  { "", "-_Xk", -1 },
  { "u ", "'6B", 1 },
  { "AD-", "56MfA", 1 },
  { " A", "Nv`BD", -1 },
  { "_a", "MK", -1 },
  { "kb\011Q_", "\013", 1 },
  { "oQ A9", "", 1 },
  { "aV3", "", 1 },
  { "-_B0u", "-_B0U", -1 },
  { "z-Eaq", "-0", 1 },
  { "B0n", "B0n", 0 },
  { "b", "", 1 },
  { "a", "a", 0 },
  { "7ab_", ")_", 1 },
  { "\011", "7", -1 },
  { "A", "", 1 },
  { "\\0A", "-", 1 },
  { "^qB", "-C", 1 },
  { "2lM", "", 1 },
  { " b", "|Ab{e", -1 },
  { "d", "d", 0 },
};

static const OrderCase order_cases[] = {
  { "{\"A\":\"a0\",\"9b\":\"a0\",\"x0\":\"a0\",\"_yA\":\"a0\"}", NULL,
    "[\"_yA\",\"9b\",\"A\",\"x0\"]",
    "{\"9b\":\"a1\",\"A\":\"a2\",\"x0\":\"a3\"}", NULL },
  { "{\"B\":{\"order\":\"b\",\"v\":0},\"-\":{\"order\":\"b\",\"v\":1},\"k0\":{\"order\":\"b\",\"v\":2},\"9C\":{\"order\":\"a0\",\"v\":3}}", "order",
    "[\"9C\",\"-\",\"B\",\"k0\"]",
    NULL, "Invalid order key: b" },
  { "{\"_B_\":\"a0\",\"11Z\":\"a1\",\"9C0\":\"a2\",\"a-\":\"a0\"}", NULL,
    "[\"_B_\",\"a-\",\"11Z\",\"9C0\"]",
    "{\"a-\":\"a0V\"}", NULL },
  { "{\"xZc\":{\"order\":\"a0\",\"v\":0},\"k9\":{\"order\":\"a0\",\"v\":1},\"ax1\":{\"order\":\"a0\",\"v\":2},\"xbx\":{\"order\":\"a0\",\"v\":3},\"xy1\":{\"order\":\"a0\",\"v\":4}}", "order",
    "[\"ax1\",\"k9\",\"xbx\",\"xy1\",\"xZc\"]",
    "{\"k9\":\"a1\",\"xbx\":\"a2\",\"xy1\":\"a3\",\"xZc\":\"a4\"}", NULL },
  { "{\"B\":{\"order\":\"a1\",\"v\":0},\"c\":{\"order\":\"a1\",\"v\":1},\"y\":{\"order\":\"a1\",\"v\":2},\"a1\":{\"order\":\"a1\",\"v\":3},\"AB1\":{\"order\":\"a4\",\"v\":4}}", "order",
    "[\"a1\",\"B\",\"c\",\"y\",\"AB1\"]",
    "{\"B\":\"a2\",\"c\":\"a3\",\"y\":\"a3V\"}", NULL },
  { "{\"Aa\":\"a0\",\"-yx\":\"a0\",\"b-\":\"a0\"}", NULL,
    "[\"-yx\",\"Aa\",\"b-\"]",
    "{\"Aa\":\"a1\",\"b-\":\"a2\"}", NULL },
  { "{\"a0\":\"A0\",\"a\":\"a0\",\"c\":\"A0\"}", NULL,
    "[\"a\",\"a0\",\"c\"]",
    "{\"a0\":\"a1\",\"c\":\"a2\"}", NULL },
  { "{\"1CA\":\"a0\",\"01Z\":\"a0\",\"B9C\":\"a1\",\"9Z\":\"a0\",\"-1\":\"a1\"}", NULL,
    "[\"01Z\",\"1CA\",\"9Z\",\"-1\",\"B9C\"]",
    "{\"1CA\":\"a0V\",\"9Z\":\"a0l\",\"B9C\":\"a2\"}", NULL },
  { "{\"Aa\":{\"order\":\"a1\",\"v\":0},\"x\":{\"order\":\"a1\",\"v\":1},\"-\":{\"order\":\"a1\",\"v\":2}}", "order",
    "[\"-\",\"Aa\",\"x\"]",
    "{\"Aa\":\"a2\",\"x\":\"a3\"}", NULL },
  { "{\"y\":\"a2\",\"a9\":\"a3\",\"x\":\"a0\",\"c\":\"a1\"}", NULL,
    "[\"x\",\"c\",\"y\",\"a9\"]",
    "null", NULL },
  { "{\"aZ\":\"b\",\"bcC\":\"a0\",\"k9\":\"a0\",\"ay\":\"a0\",\"C-A\":\"b\"}", NULL,
    "[\"ay\",\"bcC\",\"k9\",\"aZ\",\"C-A\"]",
    NULL, "Invalid order key: b" },
  { "{\"Ac\":{\"order\":\"a1\",\"v\":0},\"k1\":{\"order\":\"a3\",\"v\":1},\"ZB\":{\"order\":\"a3\",\"v\":2},\"y\":{\"order\":\"a1\",\"v\":3},\"_\":{\"order\":\"a1\",\"v\":4}}", "order",
    "[\"_\",\"Ac\",\"y\",\"k1\",\"ZB\"]",
    "{\"Ac\":\"a2\",\"y\":\"a2V\",\"ZB\":\"a4\"}", NULL },
  { "{\"_\":{\"order\":\"a1\",\"v\":0},\"CA\":{\"order\":\"a1\",\"v\":1},\"0Cy\":{\"order\":\"a0\",\"v\":2},\"a1\":{\"order\":\"a1\",\"v\":3}}", "order",
    "[\"0Cy\",\"_\",\"a1\",\"CA\"]",
    "{\"a1\":\"a2\",\"CA\":\"a3\"}", NULL },
  { "{\"a\":{\"order\":\"a1\",\"v\":0},\"0ax\":{\"order\":\"Zz\",\"v\":1},\"A-\":{\"order\":\"a1\",\"v\":2},\"BC9\":{\"order\":\"Zz\",\"v\":3},\"Z\":{\"order\":\"Zz\",\"v\":4},\"k9\":{\"order\":\"a0\",\"v\":5}}", "order",
    "[\"k9\",\"a\",\"A-\",\"0ax\",\"BC9\",\"Z\"]",
    "{\"A-\":\"a2\",\"0ax\":\"a3\",\"BC9\":\"a4\",\"Z\":\"a5\"}", NULL },
  { "{\"-ya\":{\"order\":\"a2\",\"v\":0},\"C\":{\"order\":\"a1\",\"v\":1},\"CZy\":{\"order\":\"a1\",\"v\":2},\"A9\":{\"order\":\"b\",\"v\":3},\"y\":{\"order\":\"a0\",\"v\":4},\"k0\":{\"order\":\"b\",\"v\":5}}", "order",
    "[\"y\",\"C\",\"CZy\",\"-ya\",\"A9\",\"k0\"]",
    NULL, "Invalid order key: b" },
  { "{\"k9\":\"a0\",\"aC9\":\"a1\",\"A\":\"a0\",\"xc\":\"a0\",\"Cya\":\"a2\",\"k1\":\"a0\"}", NULL,
    "[\"A\",\"k1\",\"k9\",\"xc\",\"aC9\",\"Cya\"]",
    "{\"k1\":\"a0V\",\"k9\":\"a0l\",\"xc\":\"a0t\"}", NULL },
  { "{\"cA\":\"Zz\",\"Bbx\":\"a1\"}", NULL,
    "[\"Bbx\",\"cA\"]",
    "{\"cA\":\"a2\"}", NULL },
  { "{\"__b\":{\"order\":\"a0\",\"v\":0},\"aa\":{\"order\":\"a2\",\"v\":1},\"9B_\":{\"order\":\"a2\",\"v\":2},\"b\":{\"order\":\"b\",\"v\":3},\"_\":{\"order\":\"a1\",\"v\":4},\"_a\":{\"order\":\"a1\",\"v\":5}}", "order",
    "[\"__b\",\"_\",\"_a\",\"9B_\",\"aa\",\"b\"]",
    NULL, "Invalid order key: b" },
  { "{\"-A9\":\"a1\",\"b0\":\"a0\",\"_\":\"a0\"}", NULL,
    "[\"_\",\"b0\",\"-A9\"]",
    "{\"b0\":\"a0V\"}", NULL },
  { "{\"cB_\":\"a0\",\"01y\":\"a1\",\"Z\":\"a1\",\"xa0\":\"a4\",\"k0\":\"a0\"}", NULL,
    "[\"cB_\",\"k0\",\"01y\",\"Z\",\"xa0\"]",
    "{\"k0\":\"a0V\",\"Z\":\"a2\"}", NULL },
  { "{\"-b\":{\"order\":\"Zz\",\"v\":0},\"1y\":{\"order\":\"Zz\",\"v\":1},\"x1\":{\"order\":\"a0\",\"v\":2},\"a\":{\"order\":\"Zz\",\"v\":3},\"-\":{\"order\":\"a0\",\"v\":4}}", "order",
    "[\"-\",\"x1\",\"-b\",\"1y\",\"a\"]",
    "{\"x1\":\"a1\",\"-b\":\"a2\",\"1y\":\"a3\",\"a\":\"a4\"}", NULL },
  { "{\"Z\":{\"order\":\"a2\",\"v\":0},\"cc\":{\"order\":\"a2\",\"v\":1},\"a\":{\"order\":\"a1\",\"v\":2},\"Bc\":{\"order\":\"a1\",\"v\":3},\"1b\":{\"order\":\"a0\",\"v\":4}}", "order",
    "[\"1b\",\"a\",\"Bc\",\"cc\",\"Z\"]",
    "{\"Bc\":\"a1V\",\"Z\":\"a3\"}", NULL },
  { "{\"xb\":{\"order\":\"a0\",\"v\":0},\"0yx\":{\"order\":\"a0\",\"v\":1},\"a-\":{\"order\":\"a0\",\"v\":2},\"y-\":{\"order\":\"a0V\",\"v\":3}}", "order",
    "[\"0yx\",\"a-\",\"xb\",\"y-\"]",
    "{\"a-\":\"a0G\",\"xb\":\"a0O\"}", NULL },
  { "{\"k1\":{\"order\":\"a2\",\"v\":2},\"b\":{\"order\":\"a1\",\"v\":1}}", "order",
    "[\"b\",\"k1\"]",
    "null", NULL },
  { "{\"A1a\":{\"order\":\"a2\",\"v\":0},\"_B\":{\"order\":\"a0\",\"v\":1},\"c1C\":{\"order\":\"a1\",\"v\":2},\"a\":{\"order\":\"a3\",\"v\":3}}", "order",
    "[\"_B\",\"c1C\",\"A1a\",\"a\"]",
    "null", NULL },
  { "{\"c-\":{\"order\":\"a0\",\"v\":0},\"1Z-\":{\"order\":\"a0\",\"v\":1},\"C0\":{\"order\":\"a0\",\"v\":2},\"x9y\":{\"order\":\"a0\",\"v\":3},\"bB\":{\"order\":\"a0\",\"v\":4}}", "order",
    "[\"1Z-\",\"bB\",\"c-\",\"C0\",\"x9y\"]",
    "{\"bB\":\"a1\",\"c-\":\"a2\",\"C0\":\"a3\",\"x9y\":\"a4\"}", NULL },
  { "{\"y_A\":{\"order\":\"a0v\",\"v\":0},\"CCb\":{\"order\":\"a0\",\"v\":1},\"1b1\":{\"order\":\"a0v\",\"v\":2},\"A\":{\"order\":\"a0\",\"v\":3}}", "order",
    "[\"A\",\"CCb\",\"1b1\",\"y_A\"]",
    "{\"CCb\":\"a0T\",\"y_A\":\"a1\"}", NULL },
  { "{\"A\":{\"order\":\"a1\",\"v\":0},\"1x\":{\"order\":\"a0\",\"v\":1},\"yBZ\":{\"order\":\"a0\",\"v\":2},\"AcB\":{\"order\":\"a0\",\"v\":3},\"_CZ\":{\"order\":\"a1\",\"v\":4}}", "order",
    "[\"1x\",\"AcB\",\"yBZ\",\"_CZ\",\"A\"]",
    "{\"AcB\":\"a0V\",\"yBZ\":\"a0l\",\"A\":\"a2\"}", NULL },
  { "{\"b\":\"a2\",\"0b\":\"a2\",\"B\":\"a0\",\"_x\":\"a1\"}", NULL,
    "[\"B\",\"_x\",\"0b\",\"b\"]",
    "{\"b\":\"a3\"}", NULL },
  { "{\"Z\":{\"order\":\"a0v\",\"v\":0},\"k1\":{\"order\":\"a0v\",\"v\":1},\"aZ\":{\"order\":\"a1\",\"v\":2},\"ZA\":{\"order\":\"a1\",\"v\":3},\"k9\":{\"order\":\"a0\",\"v\":4},\"ax-\":{\"order\":\"a1\",\"v\":5}}", "order",
    "[\"k9\",\"k1\",\"Z\",\"ax-\",\"aZ\",\"ZA\"]",
    "{\"Z\":\"a0y\",\"aZ\":\"a2\",\"ZA\":\"a3\"}", NULL },
  { "{\"A9\":{\"order\":\"a0\",\"v\":0},\"0y_\":{\"order\":\"a0\",\"v\":1},\"a\":{\"order\":\"a0\",\"v\":2},\"BA\":{\"order\":\"a0\",\"v\":3}}", "order",
    "[\"0y_\",\"a\",\"A9\",\"BA\"]",
    "{\"a\":\"a1\",\"A9\":\"a2\",\"BA\":\"a3\"}", NULL },
  { "{\"ZB-\":\"a0\",\"0bx\":\"a0\",\"a1\":\"a0\",\"1-0\":\"a1\",\"ac\":\"a0\"}", NULL,
    "[\"0bx\",\"a1\",\"ac\",\"ZB-\",\"1-0\"]",
    "{\"a1\":\"a0V\",\"ac\":\"a0l\",\"ZB-\":\"a0t\"}", NULL },
  { "{\"_Ay\":{\"order\":\"a0\",\"v\":0},\"C\":{\"order\":\"a0\",\"v\":1},\"k0\":{\"order\":\"a4\",\"v\":2}}", "order",
    "[\"_Ay\",\"C\",\"k0\"]",
    "{\"C\":\"a1\"}", NULL },
  { "{\"A\":{\"order\":\"a2\",\"v\":0},\"yy\":{\"order\":\"A0\",\"v\":1},\"Z\":{\"order\":\"a2\",\"v\":2},\"-B\":{\"order\":\"a1\",\"v\":3}}", "order",
    "[\"yy\",\"-B\",\"A\",\"Z\"]",
    "{\"Z\":\"a3\"}", NULL },
  { "{\"1xx\":{\"order\":\"a4\",\"v\":0},\"Z\":{\"order\":\"a0v\",\"v\":1},\"yb\":{\"order\":\"a0v\",\"v\":2},\"k9\":{\"order\":\"a4\",\"v\":3}}", "order",
    "[\"yb\",\"Z\",\"1xx\",\"k9\"]",
    "{\"Z\":\"a1\",\"k9\":\"a5\"}", NULL },
  { "{\"y0-\":{\"order\":\"a0v\",\"v\":0},\"A\":{\"order\":\"a1\",\"v\":1},\"c\":{\"order\":\"a1\",\"v\":2},\"1A\":{\"order\":\"a0v\",\"v\":3}}", "order",
    "[\"1A\",\"y0-\",\"A\",\"c\"]",
    "{\"y0-\":\"a0y\",\"c\":\"a2\"}", NULL },
  { "{\"yC\":{\"order\":\"a3\",\"v\":0},\"A\":{\"order\":\"a2\",\"v\":1},\"A9\":{\"order\":\"a0\",\"v\":2},\"k1\":{\"order\":\"a1\",\"v\":3}}", "order",
    "[\"A9\",\"k1\",\"A\",\"yC\"]",
    "null", NULL },
  { "{\"_cZ\":{\"order\":\"a3\",\"v\":0},\"c\":{\"order\":\"a3\",\"v\":1},\"b1\":{\"order\":\"a3\",\"v\":2},\"xx\":{\"order\":\"a3\",\"v\":3}}", "order",
    "[\"_cZ\",\"b1\",\"c\",\"xx\"]",
    "{\"b1\":\"a4\",\"c\":\"a5\",\"xx\":\"a6\"}", NULL },
  { "{\"1B0\":\"a0\",\"_\":\"a1\"}", NULL,
    "[\"1B0\",\"_\"]",
    "null", NULL },
  { "{\"b_c\":{\"order\":\"a2\",\"v\":0},\"ac\":{\"order\":\"a0v\",\"v\":1}}", "order",
    "[\"ac\",\"b_c\"]",
    "null", NULL },
  { "{\"xa\":{\"order\":\"a0\",\"v\":0},\"-\":{\"order\":\"a1\",\"v\":1}}", "order",
    "[\"xa\",\"-\"]",
    "null", NULL },
  { "{\"B1a\":\"a2\",\"0Ca\":\"a0\"}", NULL,
    "[\"0Ca\",\"B1a\"]",
    "null", NULL },
  { "{\"ca\":{\"order\":\"a0\",\"v\":0},\"ZAZ\":{\"order\":\"a2\",\"v\":1}}", "order",
    "[\"ca\",\"ZAZ\"]",
    "null", NULL },
  { "{\"bc\":{\"order\":\"a0\",\"v\":0},\"B\":{\"order\":\"a1\",\"v\":1},\"Ay\":{\"order\":\"a2\",\"v\":2}}", "order",
    "[\"bc\",\"B\",\"Ay\"]",
    "null", NULL },
  { "{\"x\":{\"order\":\"a0\",\"v\":0},\"cb\":{\"order\":\"a1\",\"v\":1}}", "order",
    "[\"x\",\"cb\"]",
    "null", NULL },
  { "{\"0c1\":{\"order\":\"a0\",\"v\":0},\"BB\":{\"order\":\"a2\",\"v\":1}}", "order",
    "[\"0c1\",\"BB\"]",
    "null", NULL },
};

static void
assert_key (const char *a,
            const char *b,
            const char *expected)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *key = patches_fractional_key_between (a, b, &error);

  if (error != NULL || g_strcmp0 (key, expected) != 0)
    g_test_message ("between (%s, %s)", a ? a : "NULL", b ? b : "NULL");
  g_assert_no_error (error);
  g_assert_cmpstr (key, ==, expected);
}

static void
assert_keys (const char *a,
             const char *b,
             guint       count,
             const char *expected)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) keys = patches_fractional_keys_between (a, b, count, &error);
  g_autofree char *joined = keys ? g_strjoinv ("|", keys) : NULL;

  if (error != NULL || g_strcmp0 (joined, expected) != 0)
    g_test_message ("between (%s, %s, %u)", a ? a : "NULL", b ? b : "NULL", count);
  g_assert_no_error (error);
  g_assert_nonnull (keys);
  g_assert_cmpuint (g_strv_length (keys), ==, count);
  g_assert_cmpstr (joined, ==, expected);
}

static void
assert_invalid (const char *a,
                const char *b,
                const char *message)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) error2 = NULL;
  g_autofree char *key = patches_fractional_key_between (a, b, &error);
  g_auto(GStrv) keys = patches_fractional_keys_between (a, b, 3, &error2);

  if (key != NULL || keys != NULL)
    g_test_message ("between (%s, %s)", a ? a : "NULL", b ? b : "NULL");
  g_assert_null (key);
  g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_KEY);
  g_assert_cmpstr (error->message, ==, message);
  g_assert_null (keys);
  g_assert_error (error2, PATCHES_ERROR, PATCHES_ERROR_INVALID_KEY);
  g_assert_cmpstr (error2->message, ==, message);
}

/* A well-formed key: a letter head, the integer part it announces made of
 * base-62 digits, and a digit fraction that does not end in 0. */
static gboolean
key_is_valid (const char *key)
{
  gsize len = strlen (key);
  gsize int_len;

  if (key[0] >= 'a' && key[0] <= 'z')
    int_len = key[0] - 'a' + 2;
  else if (key[0] >= 'A' && key[0] <= 'Z')
    int_len = 'Z' - key[0] + 2;
  else
    return FALSE;

  if (len < int_len || (len > int_len && key[len - 1] == '0'))
    return FALSE;

  for (gsize i = 1; i < len; i++)
    {
      if (!g_ascii_isalnum (key[i]))
        return FALSE;
    }

  return TRUE;
}

static void
test_between_examples (void)
{
  /* OPERATIONS.md §13 */
  assert_key (NULL, NULL, "a0");
  assert_key ("a0", NULL, "a1");
  assert_key (NULL, "a0", "Zz");
  assert_key ("a0", "a1", "a0V");
  assert_key ("a0", "a0V", "a0G");
  assert_key ("a0V", "a1", "a0l");
  assert_key ("a5", "a3", "a4");
  assert_key ("a6", "a6", "a6V");
  assert_key ("az", NULL, "b00");
  assert_key ("Zz", NULL, "a0");
  assert_key ("b00", NULL, "b01");

  assert_key ("a1", "a1V", "a1G");
  assert_key (NULL, "a0V", "a0");
  assert_key ("a0V", NULL, "a1");
  assert_key ("Z0", NULL, "Z1");
}

static void
test_between_empty_is_open (void)
{
  assert_key ("", "", "a0");
  assert_key ("a0", "", "a1");
  assert_key ("", "a0", "Zz");
  assert_keys ("", "", 2, "a0|a1");
}

static void
test_between_swapped (void)
{
  assert_key ("a1", "a0", "a0V");
  assert_key ("a0V", "a0", "a0G");
  assert_key ("a1", "a0V", "a0l");
  assert_key ("a0", "Zz", "ZzV");
  assert_key ("Zz", "a0", "ZzV");
  assert_key ("b00", "az", "azV");
  assert_key ("az", "b00", "azV");
}

static void
test_between_integer_boundaries (void)
{
  /* Overflow into the next head and underflow into the previous one */
  assert_key ("az", NULL, "b00");
  assert_key (NULL, "b00", "az");
  assert_key (NULL, "b01", "b00");
  assert_key ("Zz", NULL, "a0");
  assert_key (NULL, "a0", "Zz");
  assert_key ("Yzz", NULL, "Z0");
  assert_key (NULL, "Z0", "Yzz");
  assert_key ("yzzzzzzzzzzzzzzzzzzzzzzzzzz", NULL, "z00000000000000000000000000");

  /* The extremes: no integer beyond them, so fractions are used */
  assert_key (SMALLEST_INTEGER, NULL, "A00000000000000000000000001");
  assert_key (NULL, SMALLEST_INTEGER "1", SMALLEST_INTEGER "0V");
  assert_key (SMALLEST_INTEGER, SMALLEST_INTEGER "1", SMALLEST_INTEGER "0V");
  assert_key (NULL, LARGEST_INTEGER, "zzzzzzzzzzzzzzzzzzzzzzzzzzy");
  assert_key (LARGEST_INTEGER "V", NULL, LARGEST_INTEGER "l");
  assert_keys (LARGEST_INTEGER "V", NULL, 3,
               LARGEST_INTEGER "l|" LARGEST_INTEGER "t|" LARGEST_INTEGER "x");
  assert_keys (NULL, SMALLEST_INTEGER "1", 3,
               SMALLEST_INTEGER "08|" SMALLEST_INTEGER "0G|" SMALLEST_INTEGER "0V");
}

static void
test_between_count (void)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) none = patches_fractional_keys_between ("a0", NULL, 0, &error);

  g_assert_no_error (error);
  g_assert_nonnull (none);
  g_assert_null (none[0]);

  /* OPERATIONS.md §13 */
  assert_keys ("a0", NULL, 5, "a1|a2|a3|a4|a5");
  assert_keys ("a0", "a1", 3, "a0G|a0V|a0l");
  assert_keys (NULL, "a1", 3, "Zy|Zz|a0");

  assert_keys ("a0", "a1", 1, "a0V");
  assert_keys (NULL, NULL, 3, "a0|a1|a2");
  assert_keys ("Zz", NULL, 3, "a0|a1|a2");
  assert_keys (NULL, "a1", 5, "Zw|Zx|Zy|Zz|a0");
  assert_keys (NULL, "b00", 3, "ax|ay|az");
  assert_keys ("a0", "a1", 10, "a04|a08|a0G|a0K|a0O|a0V|a0Z|a0d|a0l|a0t");

  /* Swapped bounds come out descending, as in the reference */
  assert_keys ("a1", "a0", 3, "a0l|a0V|a0G");
  assert_keys ("a1", "a0", 6, "a0t|a0l|a0d|a0V|a0O|a0G");
}

static void
test_between_invalid (void)
{
  /* OPERATIONS.md §13 */
  assert_invalid ("invalid!", NULL, "Invalid order key: invalid!");
  assert_invalid ("a10", NULL, "Invalid order key: a10");

  assert_invalid (NULL, "a10", "Invalid order key: a10");
  assert_invalid ("a0", "invalid!", "Invalid order key: invalid!");
  assert_invalid ("a0V0", "a1", "Invalid order key: a0V0");
  assert_invalid (NULL, "a00", "Invalid order key: a00");
  assert_invalid ("A", NULL, "Invalid order key: A");
  assert_invalid ("a", NULL, "Invalid order key: a");
  assert_invalid ("b0", NULL, "Invalid order key: b0");
  assert_invalid ("0a", NULL, "Invalid order key head: 0");
  assert_invalid (NULL, "~", "Invalid order key head: ~");
  assert_invalid ("a0", "\303\251", "Invalid order key head: \303\251");
  assert_invalid (LARGEST_INTEGER, NULL, "Invalid order key: " LARGEST_INTEGER);
  assert_invalid (NULL, SMALLEST_INTEGER, "Invalid order key: " SMALLEST_INTEGER);
  assert_invalid ("a0\377", NULL, "Invalid order key: a0\357\277\275");
}

static void
test_between_non_digits (void)
{
  /* What the reference makes of characters that are not base-62 digits
   * (`digits.indexOf` gives -1, `digits[-1]` prints as "undefined"). */
  assert_key ("a0-", "a0~", "a0undefinedV");
  assert_key ("a0\303\251", "a0\303\252", "a0undefinedV");
  assert_key ("a0-", "a1", "a0V");
  assert_key ("a5", "a5-", "a50V");
  assert_key ("a0-x", "a0-", "a0-U");
  assert_key ("a0!V", "a0!W", "a0!VV");
  assert_key (NULL, "a-", "a");
  assert_key (NULL, "b-0", "bz");
  assert_key (NULL, "Y-z", "Y-y");
  assert_key ("a-", NULL, "a0");
  assert_keys ("a0-", "a0~", 3, "a0S|a0undefinedV|a0uu");
}

static void
test_between_reference (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (between_cases); i++)
    {
      const BetweenCase *c = &between_cases[i];

      if (c->expect == NULL)
        assert_invalid (c->a, c->b, c->message);
      else if (c->count < 0)
        assert_key (c->a, c->b, c->expect);
      else
        assert_keys (c->a, c->b, c->count, c->expect);
    }
}

static void
test_collate_reference (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (collate_cases); i++)
    {
      const CollateCase *c = &collate_cases[i];
      int cmp = patches_fractional_collate (c->a, c->b);
      int back = patches_fractional_collate (c->b, c->a);

      if (CLAMP (cmp, -1, 1) != c->sign || CLAMP (back, -1, 1) != -c->sign)
        g_test_message ("collate case %u", i);
      g_assert_cmpint (CLAMP (cmp, -1, 1), ==, c->sign);
      g_assert_cmpint (CLAMP (back, -1, 1), ==, -c->sign);
    }

  /* Not byte order: punctuation < digits < letters, case second */
  g_assert_cmpint (patches_fractional_collate ("a0", "Zz"), <, 0);
  g_assert_cmpint (patches_fractional_collate ("a0v", "a0V"), <, 0);
  g_assert_cmpint (patches_fractional_collate ("a0V", "a0w"), <, 0);
  g_assert_cmpint (patches_fractional_collate ("_", "a"), <, 0);
  g_assert_cmpint (patches_fractional_collate ("a\001b", "ab"), ==, 0);
}

static PatchesValue *
parse (const char *json)
{
  g_autoptr(GError) error = NULL;
  PatchesValue *value = patches_value_parse (json, -1, &error);

  g_assert_no_error (error);
  g_assert_nonnull (value);

  return value;
}

static void
assert_sorted (const char *items_json,
               const char *field,
               const char *expected_json)
{
  g_autoptr(PatchesValue) items = parse (items_json);
  g_autoptr(PatchesValue) expected = parse (expected_json);
  g_autoptr(GPtrArray) keys = patches_fractional_sort (items, field);
  g_autoptr(GString) got = g_string_new (NULL);
  g_autoptr(GString) want = g_string_new (NULL);

  for (guint i = 0; i < keys->len; i++)
    g_string_append_printf (got, "%s\n", (const char *) g_ptr_array_index (keys, i));
  for (guint i = 0; i < patches_value_array_get_length (expected); i++)
    g_string_append_printf (want, "%s\n",
                            patches_value_get_string (patches_value_array_get (expected, i)));

  if (!g_string_equal (got, want))
    g_test_message ("sort %s", items_json);
  g_assert_cmpstr (got->str, ==, want->str);
}

static void
assert_healed (const char *items_json,
               const char *field,
               const char *expected_json)
{
  g_autoptr(PatchesValue) items = parse (items_json);
  g_autoptr(GError) error = NULL;
  g_autoptr(PatchesValue) fixes = patches_fractional_heal (items, field, &error);
  g_autoptr(PatchesValue) expected = expected_json ? parse (expected_json) : NULL;

  if (error != NULL || (fixes == NULL) != (expected == NULL) ||
      (fixes != NULL && !patches_value_equal (fixes, expected)))
    {
      g_autofree char *got = fixes ? patches_value_to_json (fixes) : g_strdup ("null");

      g_test_message ("heal %s", items_json);
      g_assert_no_error (error);
      g_assert_cmpstr (got, ==, expected_json ? expected_json : "null");
    }
}

static void
test_sort (void)
{
  assert_sorted ("{\"b\":{\"order\":\"a2\"},\"a\":{\"order\":\"a1\"},\"c\":{\"order\":\"a1\"}}",
                 "order", "[\"a\",\"c\",\"b\"]");
  assert_sorted ("{\"b\":\"a2\",\"a\":\"a1\"}", NULL, "[\"a\",\"b\"]");
  assert_sorted ("{\"b\":{\"k\":\"a0\"},\"a\":{\"k\":\"a1\"}}", "k", "[\"b\",\"a\"]");
  assert_sorted ("{}", "order", "[]");

  /* localeCompare, not byte order, for orders and for keys */
  assert_sorted ("{\"x\":\"a0\",\"y\":\"Zz\"}", NULL, "[\"x\",\"y\"]");
  assert_sorted ("{\"y\":\"a0V\",\"x\":\"a0v\"}", NULL, "[\"x\",\"y\"]");
  assert_sorted ("{\"b\":\"a2\",\"a\":\"a1\",\"a-\":\"a1\",\"A\":\"a1\",\"_\":\"a1\"}", NULL,
                 "[\"_\",\"a\",\"A\",\"a-\",\"b\"]");

  /* Items without a string order sort as if it were empty */
  assert_sorted ("{\"b\":{\"order\":\"a0\"},\"a\":{},\"c\":5}", "order", "[\"a\",\"c\",\"b\"]");
}

static void
test_heal (void)
{
  g_autoptr(PatchesValue) bad = parse ("{\"x\":\"invalid\",\"y\":\"invalid\"}");
  g_autoptr(PatchesValue) missing = parse ("{\"x\":{\"order\":\"a0\"},\"y\":{}}");
  g_autoptr(PatchesValue) single = parse ("{\"y\":{}}");
  g_autoptr(GError) error = NULL;
  PatchesValue *fixes;

  /* OPERATIONS.md §13 */
  assert_healed ("{\"a\":{\"order\":\"a1\"},\"b\":{\"order\":\"a1\"},\"c\":{\"order\":\"a2\"}}",
                 "order", "{\"b\":\"a1V\"}");
  assert_healed ("{\"x\":\"a6\",\"y\":\"a6\"}", NULL, "{\"y\":\"a7\"}");

  assert_healed ("{\"a\":{\"order\":\"a1\"},\"b\":{\"order\":\"a1\"},\"c\":{\"order\":\"a1\"},\"d\":{\"order\":\"a2\"}}",
                 "order", "{\"b\":\"a1V\",\"c\":\"a1l\"}");
  assert_healed ("{\"a\":{\"order\":\"a1\"},\"b\":{\"order\":\"a1\"},\"c\":{\"order\":\"a1\"},\"d\":{\"order\":\"a1V\"}}",
                 "order", "{\"b\":\"a1G\",\"c\":\"a1O\"}");
  assert_healed ("{\"x\":\"a6\",\"y\":\"a6\",\"z\":\"a6\"}", NULL, "{\"y\":\"a7\",\"z\":\"a8\"}");
  assert_healed ("{\"b\":{\"order\":\"a1\"},\"a\":{\"order\":\"a1\"}}", "order", "{\"b\":\"a2\"}");
  assert_healed ("{\"B\":{\"order\":\"a1\"},\"a\":{\"order\":\"a1\"}}", "order", "{\"B\":\"a2\"}");
  assert_healed ("{\"k\":{\"s\":\"a1\"},\"j\":{\"s\":\"a1\"}}", "s", "{\"k\":\"a2\"}");

  /* Orders that sort apart under localeCompare but not as strings */
  assert_healed ("{\"x\":\"a0\",\"y\":\"Zz\"}", NULL, "{\"y\":\"a1\"}");
  assert_healed ("{\"x\":\"a0v\",\"y\":\"a0V\"}", NULL, "{\"y\":\"a1\"}");

  /* Nothing to fix */
  assert_healed ("{\"x\":\"a1\",\"y\":\"a2\"}", NULL, NULL);
  assert_healed ("{\"x\":\"a1\"}", NULL, NULL);
  assert_healed ("{}", NULL, NULL);
  assert_healed ("{\"x\":{\"order\":\"a1\"},\"y\":{\"order\":\"a2\"}}", "order", NULL);
  g_assert_null (patches_fractional_heal (single, "order", &error));
  g_assert_no_error (error);

  /* Errors */
  fixes = patches_fractional_heal (bad, NULL, &error);
  g_assert_null (fixes);
  g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_KEY);
  g_assert_cmpstr (error->message, ==, "Invalid order key: invalid");
  g_clear_error (&error);

  fixes = patches_fractional_heal (missing, "order", &error);
  g_assert_null (fixes);
  g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_KEY);
  g_clear_error (&error);
}

static void
test_order_reference (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (order_cases); i++)
    {
      const OrderCase *c = &order_cases[i];

      assert_sorted (c->items, c->field, c->sorted);

      if (c->healed == NULL)
        {
          g_autoptr(PatchesValue) items = parse (c->items);
          g_autoptr(GError) error = NULL;
          g_autoptr(PatchesValue) fixes = patches_fractional_heal (items, c->field, &error);

          g_assert_null (fixes);
          g_assert_error (error, PATCHES_ERROR, PATCHES_ERROR_INVALID_KEY);
          g_assert_cmpstr (error->message, ==, c->message);
        }
      else
        {
          assert_healed (c->items, c->field,
                         strcmp (c->healed, "null") == 0 ? NULL : c->healed);
        }
    }
}

/* Fails the test, naming the seed that reproduces the run. */
#define property_check(cond, seed, ...)                                          \
  G_STMT_START {                                                                 \
    if (!(cond))                                                                 \
      {                                                                          \
        g_test_message ("property failed with seed %u "                          \
                        "(rerun with PATCHES_TEST_SEED=%u): ", seed, seed);      \
        g_test_message (__VA_ARGS__);                                            \
        g_assert_true (cond);                                                    \
      }                                                                          \
  } G_STMT_END

static guint32
property_seed (void)
{
  const char *env = g_getenv ("PATCHES_TEST_SEED");

  if (env != NULL)
    return (guint32) g_ascii_strtoull (env, NULL, 10);

  return (guint32) g_test_rand_int ();
}

static void
test_property_insertions (void)
{
  const guint n_insertions = 12000;
  guint32 seed = property_seed ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func (g_free);
  guint hot = 0;

  g_test_message ("seed %u", seed);

  for (guint i = 0; i < n_insertions; i++)
    {
      g_autoptr(GError) error = NULL;
      const char *a, *b;
      guint pos;
      guint choice = g_rand_int_range (rand, 0, 100);
      char *key;

      /* Uniform spots, appends, prepends, and a hot spot that keeps
       * splitting the same gap so that fractions grow long. */
      if (choice < 45 || list->len == 0)
        pos = g_rand_int_range (rand, 0, list->len + 1);
      else if (choice < 60)
        pos = list->len;
      else if (choice < 70)
        pos = 0;
      else
        pos = MIN (hot, list->len);

      if (g_rand_int_range (rand, 0, 200) == 0)
        hot = g_rand_int_range (rand, 0, list->len + 1);

      a = pos > 0 ? g_ptr_array_index (list, pos - 1) : NULL;
      b = pos < list->len ? g_ptr_array_index (list, pos) : NULL;

      /* Bounds given in the wrong order are swapped back */
      if (a != NULL && b != NULL && g_rand_boolean (rand))
        key = patches_fractional_key_between (b, a, &error);
      else
        key = patches_fractional_key_between (a, b, &error);

      property_check (error == NULL, seed, "insertion %u between %s and %s: %s",
                      i, a ? a : "NULL", b ? b : "NULL", error ? error->message : "");
      property_check (key_is_valid (key), seed, "insertion %u: invalid key %s", i, key);
      property_check (a == NULL || strcmp (a, key) < 0, seed,
                      "insertion %u: %s not after %s", i, key, a);
      property_check (b == NULL || strcmp (key, b) < 0, seed,
                      "insertion %u: %s not before %s", i, key, b);

      g_ptr_array_insert (list, pos, key);

      /* Now and then a run of keys into the same gap */
      if (i % 100 == 0)
        {
          guint count = g_rand_int_range (rand, 0, 20);
          g_auto(GStrv) keys = patches_fractional_keys_between (a, b, count, &error);

          property_check (keys != NULL, seed, "keys between %s and %s: %s",
                          a ? a : "NULL", b ? b : "NULL", error ? error->message : "");
          property_check (g_strv_length (keys) == count, seed, "wrong key count");
          for (guint j = 0; j < count; j++)
            {
              const char *lo = j > 0 ? keys[j - 1] : a;

              property_check (key_is_valid (keys[j]), seed, "invalid key %s", keys[j]);
              property_check (lo == NULL || strcmp (lo, keys[j]) < 0, seed,
                              "%s not after %s", keys[j], lo);
              property_check (b == NULL || strcmp (keys[j], b) < 0, seed,
                              "%s not before %s", keys[j], b);
            }
        }
    }

  for (guint i = 1; i < list->len; i++)
    property_check (strcmp (g_ptr_array_index (list, i - 1), g_ptr_array_index (list, i)) < 0,
                    seed, "list out of order at %u", i);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Fractional/between/examples", test_between_examples);
  g_test_add_func ("/Fractional/between/empty-is-open", test_between_empty_is_open);
  g_test_add_func ("/Fractional/between/swapped", test_between_swapped);
  g_test_add_func ("/Fractional/between/integer-boundaries", test_between_integer_boundaries);
  g_test_add_func ("/Fractional/between/count", test_between_count);
  g_test_add_func ("/Fractional/between/invalid", test_between_invalid);
  g_test_add_func ("/Fractional/between/non-digits", test_between_non_digits);
  g_test_add_func ("/Fractional/between/reference", test_between_reference);
  g_test_add_func ("/Fractional/collate/reference", test_collate_reference);
  g_test_add_func ("/Fractional/sort/basic", test_sort);
  g_test_add_func ("/Fractional/heal/basic", test_heal);
  g_test_add_func ("/Fractional/order/reference", test_order_reference);
  g_test_add_func ("/Fractional/property/insertions", test_property_insertions);

  return g_test_run ();
}

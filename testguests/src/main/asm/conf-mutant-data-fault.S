/* conf-mutant-data-fault: dr-data built expecting write breakpoints to be faults (frame RIP on
 * the store instead of after it). It must fail exactly the four data.w.lenN.exact-*
 * trap-rip-after-access checks: ConformanceTest runs it to prove that they can fail. */
#define CONF_MUTANT_DATA_FAULT 1
#include "dr-data.S"

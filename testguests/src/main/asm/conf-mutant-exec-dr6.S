/* conf-mutant-exec-dr6: dr-exec built with a deliberately wrong expectation (DR6.B1 instead of
 * B0 for slot 0's execute breakpoint). It must fail exactly exec.dr0.{local,global}.dr6-reports-slot:
 * ConformanceTest runs it to prove that those checks can fail. */
#define CONF_MUTANT_EXEC_DR6 1
#include "dr-exec.S"

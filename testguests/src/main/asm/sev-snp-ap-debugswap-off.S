/* sev-snp-ap-debugswap-off: sev-es-dr that first re-creates its vCPU through SNP AP Creation with
 * SEV_FEATURES = SNP_ACTIVE only: DebugSwap off behind KVM's back (807cb9ce2ed9). */
#define SEV_AP_FEATURES 0x1
#include "sev-es-dr.S"

/** Exit codes of the `sg-audit` command (documented in the README). */
export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
/** `sg-audit doctor`: the audit would be blind (cli/doctor.ts). */
export const EXIT_NOT_READY = 2;
export const EXIT_FINDINGS = 3;
/** apply / rollback: an SG or NACL was refused because its rules drifted from the plan. */
export const EXIT_DRIFT = 4;

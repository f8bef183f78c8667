/** The ledger module: double-entry accounts and transfers that billing (and payments) post to. */
export { createLedger, type Ledger, type LedgerDeps } from './ledger.service.js';
export type {
  Balance,
  LedgerAccount,
  LedgerAccountKind,
  LedgerCheck,
  LedgerFlag,
  LedgerOp,
  LedgerResult,
  LedgerTransfer,
  OpenAccountSpec,
} from './ledger.types.js';

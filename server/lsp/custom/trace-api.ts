// What the custom requests use of server/trace and the FUSE ABI, in one place.
export { analyzeTrace, errnoName, isLiveSource, pollSource, withReadProgress, type PairedRequest } from '../../trace';
export type { RequestSummary, TraceReport } from '../../../protocol/trace';
export { opcodeName as opcodeNameOf } from '../../lab/fuse-abi';

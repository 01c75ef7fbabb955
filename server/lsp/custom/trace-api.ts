// What the custom requests use of server/trace and the FUSE ABI, in one place.
export {
  analyzeTrace, errnoName, isLiveSource, pollSource, withReadProgress, type PairedRequest, type RequestSummary, type TraceReport,
} from '../../trace';
export { opcodeName as opcodeNameOf } from '../../abi';

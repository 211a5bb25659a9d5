// What the daemon imports from fib/.
export type {
  AddressInfo,
  FibBackend,
  FibEvent,
  FibOp,
  FibStats,
  GatewayInput,
  KernelNexthop,
  KernelRoute,
  LinkInfo,
  NextHopResolution,
  RouteState,
} from './backend.js';
export type { OtherRoute } from './routes.js';
export { FibBatch } from './batch.js';
export { Fib, type FibOptions } from './fib.js';
export { createKernelFib, netlinkUnavailable } from './kernel.js';
export { SimKernel, createMemoryFib } from './memory.js';

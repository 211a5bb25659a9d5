// The kernel backend: the Fib engine over real NETLINK_ROUTE sockets.
import { Fib, type FibOptions } from './fib.js';
import { kernelTransport, netlinkUnavailable } from './netlink/addon.js';

export { netlinkUnavailable } from './netlink/addon.js';

/** A Fib that programs this network namespace's kernel. Throws if the addon is not built. */
export function createKernelFib(opts: FibOptions = {}): Fib {
  const why = netlinkUnavailable();
  if (why) throw new Error(why);
  return new Fib(kernelTransport, opts);
}

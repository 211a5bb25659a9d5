/** Decoded OPEN message and capabilities (RFC 4271 §4.2, RFC 5492). */

export interface AfiSafi {
  readonly afi: number;
  readonly safi: number;
}

/** RFC 7911: 1 = receive, 2 = send, 3 = both (from the sender's point of view). */
export interface AddPathFamily extends AfiSafi {
  readonly mode: 1 | 2 | 3;
}

export interface GracefulRestartCapability {
  readonly restartState: boolean; // R bit
  readonly notification: boolean; // N bit, RFC 8538
  readonly restartTime: number; // seconds, 12 bits
  readonly families: readonly (AfiSafi & { readonly forwardingState: boolean })[];
}

export interface Capabilities {
  multiprotocol: AfiSafi[];
  routeRefresh: boolean;
  enhancedRouteRefresh: boolean;
  /** RFC 6793: the 4-octet AS the speaker announced, or undefined if it lacks the capability. */
  fourOctetAs: number | undefined;
  extendedMessage: boolean;
  gracefulRestart: GracefulRestartCapability | undefined;
  addPath: AddPathFamily[];
  /** RFC 9234 role value (0 provider, 1 rs, 2 rs-client, 3 customer, 4 peer). */
  role: number | undefined;
  /** Capabilities we do not understand: ignored, kept for display. */
  unknown: { code: number; value: Buffer }[];
}

export interface OpenMessage {
  version: number;
  /** The 2-octet "My Autonomous System" field (AS_TRANS when the real AS needs 4 octets). */
  myAs: number;
  holdTime: number;
  /** BGP identifier as an unsigned 32-bit number. */
  bgpId: number;
  capabilities: Capabilities;
}

export function emptyCapabilities(): Capabilities {
  return {
    multiprotocol: [],
    routeRefresh: false,
    enhancedRouteRefresh: false,
    fourOctetAs: undefined,
    extendedMessage: false,
    gracefulRestart: undefined,
    addPath: [],
    role: undefined,
    unknown: [],
  };
}

/** The AS the peer really is: the 4-octet capability wins over the 2-octet field. */
export function peerAsOf(open: OpenMessage): number {
  return open.capabilities.fourOctetAs ?? open.myAs;
}

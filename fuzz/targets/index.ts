// The fuzz targets by name.
import type { Target } from '../engine.js';
import { streamSeeds, updateSeeds } from '../seeds.js';
import { FsmTarget } from './fsm.js';
import { StreamTarget } from './stream.js';
import { UpdateTarget } from './update.js';

export const TARGET_NAMES = ['update', 'stream', 'fsm'] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

export interface CountingTarget extends Target {
  /** What the oracles got to check, for reports. */
  readonly counters: object;
}

export function makeTarget(name: TargetName): CountingTarget {
  switch (name) {
    case 'update':
      return new UpdateTarget(updateSeeds);
    case 'stream':
      return new StreamTarget(streamSeeds);
    case 'fsm':
      return new FsmTarget();
  }
}

export function isTargetName(s: string): s is TargetName {
  return (TARGET_NAMES as readonly string[]).includes(s);
}

// Public surface of the configuration layer.
export * from './model.js';
export { formatDiagnostic, formatPath, makeDiagnostic, NO_SOURCE } from './diagnostics.js';
export type { Diagnostic, Locator, PathSegment, Position, Severity, Source } from './diagnostics.js';
export { resolve, resolveInputs, resolveTexts, toLoadResult, validateInputs } from './config.js';
export type { LoadResult, SourceText } from './config.js';
export type { ResolveOptions } from './resolve.js';
export { expandPaths, loadConfig, readConfigInputs } from './load.js';
export type { ReadResult } from './load.js';
export { parseYamlText } from './yaml.js';
export { KINDS, validateInput } from './validate.js';
export type { InputObject, KindName, KnownObject, TypedObject } from './validate.js';
export { diffConfigs, EFFECT_RANK, EFFECT_TABLE, effectOf, planChanges, sameValue } from './diff.js';
export type { ChangeEffect, ChangePlan, ChangeScope, ConfigChange, EffectRule, PeerAction } from './diff.js';
export { optionalSelectorMatches, selectorMatches } from './selector.js';
export type { LabelSelector, LabelSelectorRequirement, Labels, SelectorOperator } from './selector.js';
export {
  formatCommunity, formatLargeCommunity, parseAnyCommunity, parseLargeCommunity, parseStandardCommunity, WELL_KNOWN_COMMUNITIES,
} from './communities.js';
export { canonicalIp, ipv4ToNumber, parseCidr, parseIp } from './net.js';
export { parseVirtualRouterAnnotation, virtualRouterAnnotationKey } from './router-id.js';

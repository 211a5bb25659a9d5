// Kubernetes label selectors, evaluated exactly as the API machinery does
// (k8s.io/apimachinery LabelSelectorAsSelector): every matchLabels pair and every
// matchExpressions requirement must hold; an empty selector `{}` selects everything.
// Whether an ABSENT selector means "everything" or "nothing" depends on the field
// (nodeSelector: every node; serviceSelector: no Service), so callers decide that.

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  readonly values: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: readonly LabelSelectorRequirement[];
}

export type Labels = Readonly<Record<string, string>>;

function has(labels: Labels, key: string): boolean {
  return Object.hasOwn(labels, key);
}

export function requirementMatches(req: LabelSelectorRequirement, labels: Labels): boolean {
  switch (req.operator) {
    case 'In':
      return has(labels, req.key) && req.values.includes(labels[req.key]!);
    case 'NotIn':
      // A missing key satisfies NotIn, as in Kubernetes.
      return !has(labels, req.key) || !req.values.includes(labels[req.key]!);
    case 'Exists':
      return has(labels, req.key);
    case 'DoesNotExist':
      return !has(labels, req.key);
  }
}

export function selectorMatches(selector: LabelSelector, labels: Labels): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels)) {
    if (!has(labels, k) || labels[k] !== v) return false;
  }
  for (const req of selector.matchExpressions) {
    if (!requirementMatches(req, labels)) return false;
  }
  return true;
}

/** Absent selector: `whenAbsent` decides (true for nodeSelector, false for serviceSelector). */
export function optionalSelectorMatches(
  selector: LabelSelector | undefined,
  labels: Labels,
  whenAbsent: boolean,
): boolean {
  return selector === undefined ? whenAbsent : selectorMatches(selector, labels);
}

// Label syntax (k8s.io/apimachinery validation.IsQualifiedName / IsValidLabelValue).
const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why a label key is invalid, or undefined when it is valid. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  let name = key;
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    name = key.slice(slash + 1);
    if (prefix.length === 0 || prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix)) {
      return 'a label key prefix must be a lowercase DNS subdomain (e.g. "example.com/")';
    }
  }
  if (name.length === 0 || name.length > 63 || !NAME.test(name)) {
    return 'a label key name must be 1-63 characters: alphanumerics, "-", "_", "." inside';
  }
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value.length === 0) return undefined;
  if (value.length > 63 || !NAME.test(value)) {
    return 'a label value must be empty or 1-63 characters: alphanumerics, "-", "_", "." inside';
  }
  return undefined;
}

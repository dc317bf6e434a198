/**
 * Every value each catalogue attribute can take, for the collector's browser
 * pipeline (otel-collector-config.yaml, transform/browser folds anything else
 * to `_OTHER`; a test holds the two equal). Its own module so the SDK's
 * bundles do not carry it.
 */
import {
  CLOSE_CODE_CLASSES,
  CONNECTION_TYPES,
  DROP_REASONS,
  EFFECTIVE_TYPES,
  ERROR_TYPES,
  IO_DIRECTIONS,
  REQUEST_OUTCOMES,
  VITAL_RATINGS,
} from './attributes.ts';
import { ATTR } from './catalogue.ts';

export const ATTRIBUTE_VALUES: Readonly<Record<(typeof ATTR)[keyof typeof ATTR], readonly string[]>> = {
  [ATTR.closeCodeClass]: CLOSE_CODE_CLASSES,
  [ATTR.dropReason]: DROP_REASONS,
  [ATTR.requestOutcome]: REQUEST_OUTCOMES,
  [ATTR.errorType]: ERROR_TYPES,
  [ATTR.ioDirection]: IO_DIRECTIONS,
  [ATTR.connectionType]: CONNECTION_TYPES,
  [ATTR.effectiveType]: EFFECTIVE_TYPES,
  [ATTR.vitalRating]: VITAL_RATINGS,
};

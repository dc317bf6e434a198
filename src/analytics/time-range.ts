/** A half-open time range [from, to) that every analytics query takes. */
export interface TimeRange {
  from: Date;
  to: Date;
}

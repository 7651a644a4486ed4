/** The shape of ecr-model.json: ECR's API as AWS models it, reduced to what validation needs. */

/** A value's type and constraints, inline, or a reference to a named shape. */
export type MemberSpec =
  | { ref: string }
  | { type: 'string'; min?: number; max?: number; pattern?: string; enum?: string[] }
  | { type: 'number' | 'boolean' | 'timestamp' | 'document'; min?: number; max?: number }
  | { type: 'blob'; min?: number; max?: number }
  | { type: 'list'; member: MemberSpec; min?: number; max?: number }
  | { type: 'map'; key: MemberSpec; value: MemberSpec; min?: number; max?: number };

export type ShapeSpec =
  | { type: 'structure'; members: Record<string, MemberSpec>; required: string[] }
  | { type: 'union'; members: Record<string, MemberSpec> }
  | { type: 'list'; member: MemberSpec; min?: number; max?: number }
  | { type: 'map'; key: MemberSpec; value: MemberSpec; min?: number; max?: number };

export interface EcrModel {
  /** Where each part came from (package versions, repository and commit). */
  source: Record<string, string>;
  operations: Record<string, { input: string; output: string }>;
  /** Modelled error names → their structure. */
  errors: Record<string, string>;
  shapes: Record<string, ShapeSpec>;
}

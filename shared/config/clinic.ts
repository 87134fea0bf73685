/** The clinic's settings from CLINIC_CONFIG (JSON written by the CDK stack or the local twin). */
import { clinicSchema, type Clinic } from '../domain/model.js';
import { parseOrThrow, ValidationError } from '../domain/validation.js';
import { readEnv } from './env.js';

export function clinicFromEnv(env: NodeJS.ProcessEnv = process.env): Clinic {
  const { CLINIC_CONFIG } = readEnv(['CLINIC_CONFIG'], env);
  let json: unknown;
  try {
    json = JSON.parse(CLINIC_CONFIG);
  } catch (error) {
    // The message names the variable, never its contents (it holds the clinic's contact details).
    throw new ValidationError('CLINIC_CONFIG', [{ path: '', reason: 'is not valid JSON' }], { cause: error });
  }
  return parseOrThrow(clinicSchema, json, 'CLINIC_CONFIG');
}

/**
 * Errors the local Scheduler answers with. Each carries the HTTP status and the error type the real
 * service sends, so `@aws-sdk/client-scheduler` throws its own exception classes for them.
 */
export abstract class SchedulerApiError extends Error {
  abstract readonly errorType: string;
  abstract readonly httpStatus: number;
}

export class ValidationError extends SchedulerApiError {
  override readonly name = 'ValidationError';
  readonly errorType = 'ValidationException';
  readonly httpStatus = 400;
}

export class ConflictError extends SchedulerApiError {
  override readonly name = 'ConflictError';
  readonly errorType = 'ConflictException';
  readonly httpStatus = 409;
}

export class NotFoundError extends SchedulerApiError {
  override readonly name = 'NotFoundError';
  readonly errorType = 'ResourceNotFoundException';
  readonly httpStatus = 404;
}

/** A schedule expression that is not one AWS accepts; `reason` says what is wrong with it. */
export class InvalidScheduleExpressionError extends Error {
  override readonly name = 'InvalidScheduleExpressionError';

  constructor(
    readonly expression: string,
    readonly reason: string,
  ) {
    super(`Invalid Schedule Expression ${expression}: ${reason}`);
  }
}

/** A request to a path or method the local Scheduler does not serve. */
export class UnknownOperationError extends SchedulerApiError {
  override readonly name = 'UnknownOperationError';
  readonly errorType = 'UnknownOperationException';
  readonly httpStatus = 404;
}

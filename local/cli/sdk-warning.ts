/**
 * The AWS SDK warns once per process that its future versions need a newer Node than this machine
 * runs. Lambda runs the newest runtime, and an operator cannot act on it here: in the local tools'
 * output it is only noise. Called before the first SDK request; an explicit setting is kept.
 */
export function silenceSdkNodeVersionWarning(env: NodeJS.ProcessEnv = process.env): void {
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

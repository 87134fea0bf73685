/** Where dispatch's embedded metrics land, shared by the adapter that writes them and the alarms that read them. */
export const METRICS_NAMESPACE = 'Keepwell';
/** The service dimension dispatch's figures carry (the alarms select on it). */
export const DISPATCH_METRICS_SERVICE = 'keepwell-dispatch';
/** The service dimension of the web function's figures: the red-flag alert's delay. */
export const WEB_METRICS_SERVICE = 'keepwell-web';

export type NotificationChannel = 'github' | 'slack' | 'webhook';

/** A notification that was not delivered; thrown so that the job delivering it retries. */
export class NotificationError extends Error {
  override readonly name = 'NotificationError';
  readonly channel: NotificationChannel;
  /** The HTTP status the receiver answered with, if it answered. */
  readonly status: number | undefined;

  constructor(
    message: string,
    { channel, status, cause }: { channel: NotificationChannel; status?: number; cause?: unknown },
  ) {
    super(message, { cause });
    this.channel = channel;
    this.status = status;
  }
}

/**
 * Run-time limits of tasks, set for the whole fleet (over REST, issue 18) and kept in the stream
 * {@code lovage.limits}: {@link io.lovage.limits.TaskLimits} is one task's, {@link
 * io.lovage.limits.LimitBook} the book every worker and producer replica reads. The limits a task
 * is registered with, and a worker's {@code LOVAGE_RATE_LIMITS}, are in {@link io.lovage.RateLimit}
 * and the worker runtime ({@code io.lovage.worker.RateLimiter}); a limit in the book takes their
 * place while it is there.
 */
package io.lovage.limits;

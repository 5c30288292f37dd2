/**
 * Periodic tasks, as Celery beat runs them: a schedule's {@link io.lovage.schedule.Trigger} says
 * when its runs are due ({@code every}, {@code cron} in a time zone, or once {@code at}), and a
 * {@link io.lovage.schedule.CronExpression} reads the classic five cron fields.
 */
package io.lovage.schedule;

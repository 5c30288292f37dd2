/**
 * Workflows: Celery's canvas (chain, group, chord) as it travels between clients and workers, and
 * the chord join. {@link io.lovage.workflow.CanvasSender} sends a canvas (a signature dict) as task
 * messages, {@link io.lovage.workflow.ChordParts} is what a chord's header task reports to the join
 * in RabbitMQ; the join itself runs in the worker ({@code io.lovage.worker.ChordJoiner}).
 */
package io.lovage.workflow;

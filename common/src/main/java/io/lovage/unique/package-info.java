/**
 * Unique tasks on RabbitMQ alone: one lock per key, held as the single message of a queue. Callers
 * use {@link io.lovage.Unique} with {@link io.lovage.TaskClient}; workers release the lock when a
 * task finishes.
 */
package io.lovage.unique;

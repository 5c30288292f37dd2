/**
 * Signed task messages, as Celery's {@code auth} serializer writes them: RSA-PSS over the body, the
 * signer named by its X.509 certificate, trusted certificates in a store.
 *
 * <p>{@link io.lovage.security.MessageSecurity} is what the rest of Lovage sees: a {@link
 * io.lovage.TaskClient} seals what it sends with it, a {@link io.lovage.worker.Worker} opens what
 * it receives with it. {@link io.lovage.security.SignedBody} is the wire format (both Celery's 5.2
 * and 5.5 layouts), {@link io.lovage.security.MessageSigner} signs, {@link
 * io.lovage.security.CertStore} verifies.
 */
package io.lovage.security;

/**
 * A QMP client: Ferry's only way of talking to a running QEMU.
 *
 * <p>{@link dev.ferry.qmp.QmpClient#connect} opens the Unix socket, reads QEMU's greeting and sends
 * {@code qmp_capabilities}. Commands are written with an {@code id}; a single reader thread splits
 * the stream into JSON messages ({@code LineFramer}) and routes each one: replies complete the
 * caller waiting for that id (errors become {@link dev.ferry.qmp.QmpErrorException}), events go
 * to the {@code EventBus}, which completes matching {@link dev.ferry.qmp.EventWaiter}s at once and
 * hands events to subscribers on a dispatch thread. When the socket closes, every pending command
 * and waiter fails immediately with {@link dev.ferry.qmp.QmpClosedException}.
 *
 * <p>To wait for an event a command causes, create the waiter before sending the command:
 * QEMU may send the event before the command's reply.
 */
package dev.ferry.qmp;

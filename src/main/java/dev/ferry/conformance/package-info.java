/**
 * The conformance check for migration tools ({@code ferry tool check}) and the skeleton tool that
 * passes it ({@code ferry tool template}).
 *
 * <p>{@link dev.ferry.conformance.ToolCheck} runs whole migrations through the production
 * {@link dev.ferry.migration.MigrationCoordinator}: the tool under test moves one device between
 * two neighbour devices, against a source QEMU and a destination that only pretend, in a scratch
 * directory. One scenario lets everything succeed; the others make a neighbour, the tool's own
 * step or QEMU fail at each step, so the production sequence produces every recovery the tool's
 * dialect can see. The argv, the sequence and the messages are therefore the ones a real
 * migration makes, whatever rules {@code DeviceSteps} follows.
 *
 * <p>What the kit adds is watching: {@code CallProbe} (a {@link dev.ferry.proc.ProcessObserver})
 * gives every call a marker variable and, the moment the tool exits, finds what it left running;
 * {@code OutputContract} reads its output as the contract demands; {@code Scratch} notices files a
 * step 0 made or a recovery failed to undo; {@code WatchedTool} records what Ferry said about each
 * call and repeats the last recovery. {@link dev.ferry.conformance.CheckReport} prints it all.
 */
package dev.ferry.conformance;

/**
 * Devices in migration: the one contract every device follows ({@link dev.ferry.device.DeviceController}:
 * check, pre-suspend, post-suspend, sync, recover, after-resume), the built-in controllers, and
 * the external tools that move devices Ferry cannot move in-band.
 *
 * <p>{@link dev.ferry.device.DeviceControllers} is the only place that looks at device types: it
 * binds each device of a {@code VmSpec} to a controller. Devices whose state travels in QEMU's
 * own stream get an in-band controller that does nothing; a configured tool
 * ({@link dev.ferry.device.ToolSpec}, run by {@link dev.ferry.device.ToolRunner} in the ferry or
 * xen dialect with {@link dev.ferry.device.ToolArguments}) takes over what Ferry cannot move;
 * devices nothing can move refuse at check with the reason and the fix. Disks not shared between
 * the hosts live in {@link dev.ferry.device.disk}. Each controller names the
 * {@link dev.ferry.device.StepSequence} it needs: Ferry's, or xend's for a xen-dialect tool; the
 * migration's step runner follows it, and it is the one place that decides order and scope.
 * Controllers reach the VM's QEMU only through {@link dev.ferry.device.GuestControl}.
 */
package dev.ferry.device;

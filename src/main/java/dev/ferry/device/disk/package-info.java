/**
 * Disks that live on one host's own storage, and how they move. On the source, {@link
 * dev.ferry.device.disk.LocalDiskController} mirrors a disk ({@link dev.ferry.device.disk.DiskMirror})
 * into an NBD export of the destination's copy. On the destination, {@link
 * dev.ferry.device.disk.IncomingImages} gives each such disk its {@link dev.ferry.device.IncomingDevice}:
 * room checked across the VM's disks, the copy created where the {@link
 * dev.ferry.device.disk.ImageStore} puts it ({@link dev.ferry.device.disk.DiskImages}), then exported
 * over NBD ({@link dev.ferry.device.disk.NbdExport}) or, when the operator's disk tool fills it,
 * handed over as a path; a host block device the tool fills is used at the same path.
 * Only {@link dev.ferry.device.DeviceControllers} decides which of these a disk gets.
 */
package dev.ferry.device.disk;

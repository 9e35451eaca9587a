/**
 * Disks that live on one host's own storage, and how they move: the source mirrors a disk
 * ({@link dev.ferry.device.disk.LocalDiskController}, {@link dev.ferry.device.disk.DiskMirror})
 * into an NBD export ({@link dev.ferry.device.disk.NbdExport}) of an image the destination
 * created ({@link dev.ferry.device.disk.DiskImages}) after checking it has room for it.
 * Only {@link dev.ferry.device.DeviceControllers} decides which of these a disk gets.
 */
package dev.ferry.device.disk;

"""Frame sources and sinks: video files and image sequences through PyAV and OpenCV."""

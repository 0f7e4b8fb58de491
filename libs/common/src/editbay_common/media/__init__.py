"""Media core: hardened probing, analysis and the FFmpeg render engine."""

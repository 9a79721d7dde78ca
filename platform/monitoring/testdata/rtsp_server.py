#!/usr/bin/python3
# An RTSP server with a generated test pattern, for the video tests (Debian packages only:
# python3-gi, gir1.2-gst-rtsp-server-1.0, gstreamer1.0-plugins-base/-good/-ugly).
#
#   rtsp_server.py PORT    serves rtsp://127.0.0.1:PORT/test (H.264, 320x240, 15 fps, a keyframe
#                          every second) and prints "ready" once listening.
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

Gst.init(None)
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(sys.argv[1])
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch(
    "( videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=15/1 "
    "! clockoverlay ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 bitrate=300 "
    "! video/x-h264,profile=baseline ! rtph264pay name=pay0 pt=96 config-interval=1 )"
)
factory.set_shared(True)
server.get_mount_points().add_factory("/test", factory)
if server.attach(None) == 0:
    print("cannot listen", flush=True)
    sys.exit(1)
print("ready", flush=True)
GLib.MainLoop().run()

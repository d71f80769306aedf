"""Video input and output on PyAV: probing, upright frames with exact timestamps, H.264 writing with audio copy."""

from facemirror.video.decode import DecodeReport
from facemirror.video.encoders import CANDIDATES, choose_encoder
from facemirror.video.probe import VideoInfo, probe
from facemirror.video.reader import Frame, VideoReader
from facemirror.video.writer import VideoWriter

__all__ = ["CANDIDATES", "DecodeReport", "Frame", "VideoInfo", "VideoReader", "VideoWriter", "choose_encoder", "probe"]

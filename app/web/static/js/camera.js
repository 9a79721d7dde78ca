// camera.js: the camera page's live player. The stream is HLS served by the app at the camera's
// authenticated path (the gateway starts the camera's ffmpeg on the first request); hls.js plays
// it through Media Source Extensions, or the browser itself where it plays HLS (Safari, iOS).
(function () {
  'use strict';
  var video = document.getElementById('camera-live');
  if (!video) return;
  var status = document.getElementById('camera-status');
  var src = video.getAttribute('data-src');
  function say(key) {
    if (!status) return;
    status.textContent = key ? status.getAttribute('data-' + key) : '';
    status.hidden = !key;
  }
  function playing() {
    say('');
    video.setAttribute('data-playing', 'true');
  }
  video.addEventListener('playing', playing);
  if (window.Hls && window.Hls.isSupported()) {
    // No web worker: the console's Content-Security-Policy allows no blob: workers.
    var hls = new window.Hls({ enableWorker: false, lowLatencyMode: false, liveSyncDurationCount: 2,
      manifestLoadingMaxRetry: 4, manifestLoadingRetryDelay: 1500 });
    hls.on(window.Hls.Events.ERROR, function (_, data) {
      if (!data.fatal) return;
      if (data.type === window.Hls.ErrorTypes.MEDIA_ERROR) {
        hls.recoverMediaError();
        return;
      }
      video.setAttribute('data-error', data.details || 'error');
      say('failed');
    });
    hls.loadSource(src);
    hls.attachMedia(video);
    hls.on(window.Hls.Events.MANIFEST_PARSED, function () {
      var p = video.play();
      if (p && p.catch) p.catch(function () {});
    });
  } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
    video.src = src;
    video.addEventListener('error', function () { video.setAttribute('data-error', 'media'); say('failed'); });
  } else {
    video.setAttribute('data-error', 'unsupported');
    say('failed');
  }
})();

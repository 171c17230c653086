// The organiser scans a volunteer's e-card QR with the phone's or laptop's camera, into the form marked
// data-ecard-scan (the same form a handheld scanner types into). The browser's own BarcodeDetector decodes
// where it reads QR codes; elsewhere jsQR (vendor/jsQR.js, loaded on demand) reads a frame every 200 ms.
// The first code read fills the field and sends the form. Scanning carries on after the page comes back
// (sessionStorage), so a queue of volunteers can be scanned one after another, until 停止 is pressed.
// The texts shown come from the template (translated there), in data-* attributes.
(() => {
  const form = document.querySelector("form[data-ecard-scan]");
  if (!form) return;
  const activity = form.dataset.ecardScan;
  const input = form.querySelector("input[name=ecard]");
  const startButton = form.querySelector("[data-scan-start]");
  const stopButton = form.querySelector("[data-scan-stop]");
  const view = form.querySelector("[data-scan-view]");
  const video = form.querySelector("[data-scan-video]");
  const status = form.querySelector("[data-scan-status]");
  const error = form.querySelector("[data-scan-error]");
  const reason = form.querySelector("[data-scan-reason]");
  const KEY = "vetvol.ecardScan";
  const INTERVAL_MS = 200;
  const MAX_SIDE = 800; // frames are scaled down to this before decoding

  video.style.width = "100%";
  video.style.maxWidth = "480px";
  // While the camera is open only 停止 is offered (buttons are display:inline-block, so not `hidden`).
  const scanning = (yes) => {
    startButton.disabled = yes;
    startButton.style.display = yes ? "none" : "";
  };

  // { activity: "12", last: "<the code sent last>" } while the organiser is scanning.
  const loadState = () => {
    try {
      return JSON.parse(sessionStorage.getItem(KEY) || "null");
    } catch {
      return null;
    }
  };
  const saveState = (state) => {
    try {
      if (state) sessionStorage.setItem(KEY, JSON.stringify(state));
      else sessionStorage.removeItem(KEY);
    } catch {
      // storage refused (private mode): scanning still works, it just does not resume by itself
    }
  };

  const say = (name) => {
    status.textContent = status.dataset[name] || "";
  };

  let jsqrLoading = null;
  const loadJsQR = () => {
    if (window.jsQR) return Promise.resolve();
    jsqrLoading ||= new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = form.dataset.jsqr;
      const failed = () => {
        jsqrLoading = null;
        script.remove();
        reject(Object.assign(new Error("jsQR did not load"), { name: "LoadError" }));
      };
      script.onload = () => (window.jsQR ? resolve() : failed());
      script.onerror = failed;
      document.head.appendChild(script);
    });
    return jsqrLoading;
  };

  // A function (canvas, context) -> Promise<text | null>.
  const makeDecoder = async () => {
    if ("BarcodeDetector" in window) {
      try {
        const formats = await window.BarcodeDetector.getSupportedFormats();
        if (formats.includes("qr_code")) {
          const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
          return async (canvas) => {
            const codes = await detector.detect(canvas);
            return codes.length ? codes[0].rawValue : null;
          };
        }
      } catch {
        // fall back to jsQR
      }
    }
    await loadJsQR();
    return async (canvas, context) => {
      const image = context.getImageData(0, 0, canvas.width, canvas.height);
      const code = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
      return code ? code.data : null;
    };
  };

  let session = null; // the camera now open: { stream, timer, stopped }

  const stopCamera = () => {
    if (!session) return;
    session.stopped = true;
    clearTimeout(session.timer);
    if (session.stream) session.stream.getTracks().forEach((track) => track.stop());
    session = null;
    video.pause();
    video.srcObject = null;
    view.hidden = true;
    scanning(false);
  };

  const showError = (err) => {
    const name = err && err.name;
    const texts = {
      NotAllowedError: "denied",
      SecurityError: "denied",
      NotFoundError: "missing",
      OverconstrainedError: "missing",
      NotReadableError: "busy",
      AbortError: "busy",
      Unsupported: "unsupported",
      LoadError: "loadFailed",
    };
    reason.textContent = error.dataset[texts[name]] || `${error.dataset.other} (${name || err}) `;
    error.hidden = false;
  };

  const found = (text) => {
    const state = loadState() || { activity };
    if (state.last === text) {
      say("again"); // still the card just sent (the volunteer has not stepped away yet)
      return false;
    }
    stopCamera();
    saveState({ activity, last: text });
    input.value = text;
    say("sending");
    view.hidden = false; // keep the "sending" line in sight; the page is about to change
    scanning(true);
    if (form.requestSubmit) form.requestSubmit();
    else form.submit();
    return true;
  };

  const start = async () => {
    if (session) return;
    const current = { stream: null, timer: 0, stopped: false };
    session = current;
    error.hidden = true;
    scanning(true);
    view.hidden = false;
    say("opening");
    saveState({ ...(loadState() || {}), activity });
    let decode;
    try {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        throw Object.assign(new Error("getUserMedia"), { name: "Unsupported" });
      }
      const opening = navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
      const decoding = makeDecoder();
      decoding.catch(() => {}); // reported below, after the camera's own answer
      current.stream = await opening;
      if (current.stopped) {
        current.stream.getTracks().forEach((track) => track.stop());
        return;
      }
      decode = await decoding;
      video.srcObject = current.stream;
      await video.play();
    } catch (err) {
      if (current.stopped) return;
      session = current; // (stopCamera clears it)
      stopCamera();
      saveState(null); // do not try again by itself on the next page
      showError(err);
      input.focus();
      return;
    }
    if (current.stopped) return;
    say("aim");
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });
    const tick = async () => {
      if (current.stopped) return;
      if (video.readyState >= video.HAVE_CURRENT_DATA && video.videoWidth) {
        const scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
        canvas.width = Math.round(video.videoWidth * scale);
        canvas.height = Math.round(video.videoHeight * scale);
        context.drawImage(video, 0, 0, canvas.width, canvas.height);
        let text = null;
        try {
          text = await decode(canvas, context);
        } catch {
          text = null; // one unreadable frame; try the next
        }
        if (current.stopped) return;
        if (text && found(text)) return;
      }
      current.timer = setTimeout(tick, INTERVAL_MS);
    };
    tick();
  };

  startButton.addEventListener("click", () => {
    start();
  });
  stopButton.addEventListener("click", () => {
    stopCamera();
    saveState(null);
    status.textContent = "";
    input.focus();
  });
  // Leaving the page (or the form being sent) releases the camera at once; coming back to it through the
  // back/forward cache opens it again if the organiser was scanning.
  window.addEventListener("pagehide", stopCamera);
  window.addEventListener("pageshow", (event) => {
    const state = loadState();
    if (event.persisted && state && state.activity === activity) start();
  });

  const state = loadState();
  if (state && state.activity === activity) start();
})();

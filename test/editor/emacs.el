;;; emacs.el --- Drives FUSE Lens's language server from a real Emacs with eglot, in batch  -*- lexical-binding: t -*-

;; Debian 12's Emacs 28 with its elpa-eglot (1.9). test/editor/emacs.test.ts
;; extracts the set-up docs/editor.md gives into FUSELENS_SETUP; this file
;; loads it, opens FUSELENS_FILE as a user would, then asks for what a user
;; sees: Flymake's diagnostics, the hover eldoc shows, completion at point, and
;; the quick fix `M-x eglot-code-actions' applies with RET (its default). What it
;; saw goes to FUSELENS_OUT as JSON; any error ends Emacs with status 1.

(require 'package)
;; Debian's elpa-* packages live here; `package-initialize' activates them
;; (what site-start does for an interactive Emacs, which batch mode skips).
(add-to-list 'package-directory-list "/usr/share/emacs/site-lisp/elpa")
(package-initialize)
(require 'eglot)
(require 'json)

(defvar fuselens-seen nil "What the session saw, as an alist for `json-encode'.")

(defun fuselens-see (key value)
  (push (cons key value) fuselens-seen))

(defun fuselens-wait (what predicate)
  "Run the event loop until PREDICATE holds; fail naming WHAT after 20 s."
  (let ((deadline (+ (float-time) 20)))
    (while (not (funcall predicate))
      (when (> (float-time) deadline) (error "Timed out waiting for %s" what))
      (accept-process-output nil 0.05))))

(defun fuselens-idle ()
  "Run the idle timers, as the command loop does when the user pauses.
Batch mode never goes idle, and eglot sends an edit to the server from an
idle timer (`eglot-send-changes-idle-time')."
  (mapc #'timer-event-handler (copy-sequence timer-idle-list)))

(defun fuselens-errors ()
  "Flymake's error diagnostics (eglot files an LSP error under the type `eglot-error')."
  (seq-filter (lambda (d) (eq (flymake-diagnostic-type d) 'eglot-error)) (flymake-diagnostics)))

(condition-case err
    (progn
      (load (getenv "FUSELENS_SETUP") nil t)
      (setq-default eglot-workspace-configuration '(:fuselens (:kernel (:defaultVersion ""))))
      (find-file (getenv "FUSELENS_FILE"))
      (fuselens-see 'mode (symbol-name major-mode))
      ;; eglot-ensure connects after the command that visited the file (post-command-hook);
      ;; batch mode runs no command loop, so the hook is run once here.
      (run-hooks 'post-command-hook)
      (fuselens-wait "eglot to manage the buffer" (lambda () eglot--managed-mode))
      (fuselens-wait "Flymake's diagnostics" (lambda () (flymake-diagnostics)))
      (fuselens-see 'diagnostics
                    (vconcat (mapcar (lambda (d)
                                       `((line . ,(line-number-at-pos (flymake-diagnostic-beg d)))
                                         (type . ,(symbol-name (flymake-diagnostic-type d)))
                                         (text . ,(flymake-diagnostic-text d))))
                                     (flymake-diagnostics))))

      ;; Hover: eglot's eldoc function on the denied open (line 12).
      (goto-char (point-min))
      (forward-line 11)
      (forward-char 1)
      (let (hover)
        (eglot-hover-eldoc-function (lambda (info &rest _) (setq hover (or info ""))))
        (fuselens-wait "the hover" (lambda () hover))
        (fuselens-see 'hover (substring-no-properties hover)))

      ;; Completion at the start of line 13, as completion-at-point asks.
      (goto-char (point-min))
      (forward-line 12)
      (let* ((capf (eglot-completion-at-point))
             (table (nth 2 capf)))
        (fuselens-see 'completion (vconcat (mapcar #'substring-no-properties (all-completions "" table)))))

      ;; The quick fix on line 12: the actions eglot offers there, then the one RET picks.
      (goto-char (point-min))
      (forward-line 11)
      (let ((actions (eglot-code-actions (line-beginning-position) (line-end-position))))
        (fuselens-see 'actions (vconcat (mapcar (lambda (a) (plist-get a :title)) actions))))
      (let ((last-nonmenu-event ?\r)) ; invoked from the keyboard, so eglot asks in the minibuffer
        (cl-letf (((symbol-function 'completing-read)
                   (lambda (_prompt _collection &optional _pred _req _init _hist default &rest _) default)))
          (eglot-code-actions (line-beginning-position) (line-end-position) nil t)))
      (fuselens-idle)
      (fuselens-wait "the error to go" (lambda () (null (fuselens-errors))))
      (fuselens-see 'fixed t)
      (goto-char (point-min))
      (forward-line 11)
      (fuselens-see 'line12 (buffer-substring-no-properties (line-beginning-position) (line-end-position)))
      (with-temp-file (getenv "FUSELENS_OUT") (insert (json-encode fuselens-seen)))
      (kill-emacs 0))
  (error
   (with-temp-file (getenv "FUSELENS_OUT")
     (insert (json-encode (cons (cons 'error (error-message-string err)) fuselens-seen))))
   (kill-emacs 1)))

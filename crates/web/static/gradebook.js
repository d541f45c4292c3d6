/* Trường Số — sổ điểm điện tử: the mark-entry grid.
 *
 * Progressive enhancement of the server-rendered <form class="gradebook"> (see the markup contract
 * at the end of this comment). Vanilla ES2020, no dependencies, no inline code, so the page keeps
 * its CSP `script-src 'self'; style-src 'self'` (styling is by class only, in app.css).
 *
 * What it does:
 *  - spreadsheet keys: arrows (Left/Right only at the text's edge or when all of it is selected),
 *    Enter / Shift+Enter down / up, Tab native, Ctrl+Home / Ctrl+End first / last cell of the row,
 *    Escape reverts the cell to its last saved value; focusing a cell selects its text;
 *  - paste of a column or block copied from Excel / LibreOffice (lines and tabs) from the focused
 *    cell downward and rightward; a read-only cell keeps its value and its pasted value is dropped,
 *    so every pasted line stays on the learner it was meant for;
 *  - validation while typing and on blur that mirrors crates/core/src/gradebook/marks.rs
 *    (Mark, TestScore, Pass, SubjectLevel), with the value normalised on blur ("7,5" → "7.5");
 *  - autosave: changed valid cells batched 400 ms after the last change, at once when focus
 *    leaves the grid, and with `keepalive` when the page is hidden or unloaded; failures keep the
 *    cells unsaved and retry 5 s later or at the next change, whichever comes first;
 *  - per-cell results: saved / conflict (the other writer's value is shown, with who and when) /
 *    error / locked; the row average from the answer;
 *  - polling every 30 s and when the tab becomes visible, so two teachers see each other's writes.
 *
 * Markup: form.gradebook[data-api][data-csrf][data-class][data-subject][data-term][data-kind]
 *   > p.gradebook-status, table tbody tr[data-learner] > td > input[data-slot][data-version]
 *   [data-kind]?, and one [data-avg] per row. Cell classes set here: invalid, conflict, locked,
 *   pending (changed, not saved yet), saved and updated (both brief).
 */
(function () {
  'use strict';

  const SAVE_DELAY_MS = 400;
  const RETRY_MS = 5000;
  const POLL_MS = 30000;
  const FLASH_MS = 1600;
  const NOTE_MS = 10000;

  const MSG = {
    score: 'Điểm phải từ 0 đến 10, tối đa một chữ số thập phân (ví dụ 7,5).',
    decimals: 'Điểm chỉ được có tối đa một chữ số thập phân (ví dụ 7,5).',
    test: 'Điểm kiểm tra định kì ở tiểu học phải là số nguyên từ 0 đến 10.',
    comment: 'Chỉ nhập Đ (Đạt) hoặc CĐ (Chưa đạt).',
    level: 'Chỉ nhập T (Hoàn thành tốt), H (Hoàn thành) hoặc C (Chưa hoàn thành).',
    rejected: 'Máy chủ không nhận giá trị này.',
    locked: 'Ô này đã bị khóa, không sửa được.',
    saving: 'Đang lưu…',
    offline: 'Mất kết nối',
    retry: 'sẽ thử lại',
    expired: 'Phiên đăng nhập đã hết hạn hoặc không còn quyền ghi — hãy đăng nhập lại',
  };

  // ---------------------------------------------------------------------------------------------
  // Values: the client twin of the server's parsers. Each returns
  //   {state: 'ok', value}      value normalised as the server prints it ('' = empty cell),
  //   {state: 'partial'}        not valid yet, but may become valid as the teacher keeps typing,
  //   {state: 'invalid', message}.

  /** Lower case, no diacritics, đ → d, no spaces or dots: the server's `fold` + replace. */
  function fold(s) {
    return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/đ/g, 'd').replace(/[\s.]/g, '');
  }

  /** A decimal with at most one fractional digit, in tenths (server: parse_tenths). */
  function parseTenths(t) {
    const m = /^(\d{1,3})(?:([.,])(\d*))?$/.exec(t);
    if (!m) return { err: 'number' };
    if (m[2] && m[3] === '') return { err: 'number', partial: true }; // "7," — still typing
    const frac = (m[3] || '').replace(/0+$/, '');
    if (frac.length > 1) return { err: 'decimals' };
    return { tenths: Number(m[1]) * 10 + (frac ? Number(frac) : 0) };
  }

  function words(table, raw, message) {
    const f = fold(raw);
    if (Object.prototype.hasOwnProperty.call(table, f)) return { state: 'ok', value: table[f] };
    if (f && Object.keys(table).some((k) => k.startsWith(f))) return { state: 'partial', message };
    return { state: 'invalid', message };
  }

  const PASS = { d: 'Đ', dat: 'Đ', cd: 'CĐ', chuadat: 'CĐ' };
  const LEVEL = {
    t: 'T', htt: 'T', hoanthanhtot: 'T',
    h: 'H', ht: 'H', hoanthanh: 'H',
    c: 'C', cht: 'C', chuahoanthanh: 'C',
  };

  function validate(kind, raw) {
    const t = (raw || '').trim();
    if (t === '') return { state: 'ok', value: '' };
    switch (kind) {
      case 'comment':
        return words(PASS, t, MSG.comment);
      case 'level':
        return words(LEVEL, t, MSG.level);
      case 'test': {
        const p = parseTenths(t);
        if (p.err) return { state: p.partial ? 'partial' : 'invalid', message: MSG.test };
        if (p.tenths > 100 || p.tenths % 10 !== 0) return { state: 'invalid', message: MSG.test };
        return { state: 'ok', value: String(p.tenths / 10) };
      }
      case 'score': {
        const p = parseTenths(t);
        if (p.err) {
          return { state: p.partial ? 'partial' : 'invalid', message: p.err === 'decimals' ? MSG.decimals : MSG.score };
        }
        if (p.tenths > 100) return { state: 'invalid', message: MSG.score };
        return { state: 'ok', value: Math.floor(p.tenths / 10) + '.' + (p.tenths % 10) };
      }
      default:
        return { state: 'ok', value: t }; // unknown kind: the server decides
    }
  }

  /** A value from the server, in the client's normal form so that comparisons hold. */
  function fromServer(kind, value) {
    if (value === null || value === undefined) return '';
    const v = validate(kind, String(value));
    return v.state === 'ok' ? v.value : String(value).trim();
  }

  function hhmm(d) {
    return String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0');
  }

  /** "09:12" from "2026-11-24T09:12:00+07:00" (the server's wall clock, Vietnam time), with the
   *  date too when it is not today. */
  function when(at) {
    const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})/.exec(at || '');
    if (!m) return '';
    const now = new Date();
    const today = now.getFullYear() + '-' + String(now.getMonth() + 1).padStart(2, '0') + '-' + String(now.getDate()).padStart(2, '0');
    const time = m[4] + ':' + m[5];
    return today === m[1] + '-' + m[2] + '-' + m[3] ? time : time + ' ngày ' + m[3] + '/' + m[2] + '/' + m[1];
  }

  // ---------------------------------------------------------------------------------------------

  class Gradebook {
    constructor(form) {
      this.form = form;
      const d = form.dataset;
      this.api = d.api;
      this.csrf = d.csrf || '';
      this.classId = d.class;
      this.subject = d.subject;
      this.term = Number(d.term);
      this.kind = d.kind || 'score';
      this.statusEl = form.querySelector('.gradebook-status');

      /** input → {saved, sending, sendingKeepalive, rejected, conflict, title0, flash} */
      this.cells = new Map();
      /** "learner|slot" → input */
      this.byKey = new Map();
      this.timer = 0;
      this.retryTimer = 0;
      this.inflight = 0;
      this.again = false;
      this.problem = null;
      this.lastSavedAt = null;
      this.note = null;
      this.noteTimer = 0;
      this.polling = false;
      this.mouseFocus = null;

      for (const input of this.allInputs()) this.state(input);
      this.bind();
      this.renderStatus();
      this.pollTimer = window.setInterval(() => this.poll(), POLL_MS);
    }

    // --- cells ---------------------------------------------------------------------------------

    allInputs() {
      return this.form.querySelectorAll('tbody tr[data-learner] input[data-slot]');
    }

    rows() {
      return Array.from(this.form.querySelectorAll('tbody tr[data-learner]'));
    }

    rowInputs(tr) {
      return Array.from(tr.querySelectorAll('input[data-slot]'));
    }

    isCell(el) {
      return el instanceof HTMLInputElement && el.matches('tbody tr[data-learner] input[data-slot]') && this.form.contains(el);
    }

    kindOf(input) {
      return input.dataset.kind || this.kind;
    }

    learnerOf(input) {
      return input.closest('tr[data-learner]').dataset.learner;
    }

    key(input) {
      return this.learnerOf(input) + '|' + input.dataset.slot;
    }

    version(input) {
      const v = parseInt(input.dataset.version, 10);
      return Number.isFinite(v) ? v : 0;
    }

    setVersion(input, v) {
      const n = Number(v);
      if (Number.isFinite(n) && n >= this.version(input)) input.dataset.version = String(n);
    }

    state(input) {
      let st = this.cells.get(input);
      if (!st) {
        st = {
          saved: fromServer(this.kindOf(input), input.value),
          sending: null,
          sendingKeepalive: false,
          rejected: null, // {value, message, locked}
          conflict: null, // title text
          title0: input.getAttribute('title'),
          flash: 0,
        };
        this.cells.set(input, st);
        this.byKey.set(this.key(input), input);
      }
      return st;
    }

    /** The value to send, or null when the cell has nothing (valid) to send. */
    unsaved(input) {
      if (input.readOnly || input.disabled) return null;
      const st = this.state(input);
      const v = validate(this.kindOf(input), input.value);
      if (v.state !== 'ok' || v.value === st.saved) return null;
      if (st.rejected && st.rejected.value === v.value) return null;
      return v.value;
    }

    /** Typed text that cannot be saved as it is (invalid or unfinished) and differs from the saved value. */
    stuck(input) {
      const st = this.state(input);
      const v = validate(this.kindOf(input), input.value);
      if (v.state !== 'ok') return input.value.trim() !== st.saved;
      return !!(st.rejected && st.rejected.value === v.value);
    }

    /** Sets classes, aria-invalid and title from the cell's state. While typing (`typing`), an
     *  unfinished value is not flagged. */
    paint(input, typing) {
      const st = this.state(input);
      const v = validate(this.kindOf(input), input.value);
      let invalid = null;
      let locked = null;
      if (v.state === 'invalid' || (v.state === 'partial' && !typing)) invalid = v.message;
      else if (v.state === 'ok' && st.rejected && st.rejected.value === v.value) {
        if (st.rejected.locked) locked = st.rejected.message;
        else invalid = st.rejected.message;
      }
      input.classList.toggle('invalid', invalid !== null);
      if (locked !== null) input.classList.add('locked');
      else if (st.lockedByUs) input.classList.remove('locked');
      st.lockedByUs = locked !== null;
      input.classList.toggle('conflict', !!st.conflict && invalid === null && locked === null);
      if (invalid !== null || locked !== null) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
      const title = invalid || locked || st.conflict || st.title0;
      if (title) input.setAttribute('title', title);
      else input.removeAttribute('title');
      input.classList.toggle('pending', this.unsaved(input) !== null || (st.sending !== null && v.state === 'ok' && v.value === st.sending));
    }

    /** Normalises the shown text of a valid cell ("7,5" → "7.5") and paints it. */
    commit(input) {
      const v = validate(this.kindOf(input), input.value);
      if (v.state === 'ok' && input.value !== v.value) input.value = v.value;
      this.paint(input, false);
    }

    show(input, value) {
      if (input.value !== value) {
        input.value = value;
        if (document.activeElement === input) input.select();
      }
    }

    flash(input, cls) {
      const st = this.state(input);
      input.classList.remove('saved', 'updated');
      input.classList.add(cls);
      window.clearTimeout(st.flash);
      st.flash = window.setTimeout(() => input.classList.remove(cls), FLASH_MS);
    }

    setAverage(learnerId, average) {
      const tr = this.form.querySelector('tr[data-learner="' + CSS.escape(String(learnerId)) + '"]');
      const cell = tr && tr.querySelector('[data-avg]');
      if (cell) cell.textContent = average === null || average === undefined ? '' : String(average);
    }

    // --- events --------------------------------------------------------------------------------

    bind() {
      const f = this.form;
      f.addEventListener('focusin', (e) => {
        if (this.isCell(e.target)) e.target.select();
      });
      f.addEventListener('mousedown', (e) => {
        // A click that focuses a cell keeps the whole text selected (the mouseup would collapse it).
        this.mouseFocus = this.isCell(e.target) && document.activeElement !== e.target ? e.target : null;
      });
      f.addEventListener('mouseup', (e) => {
        if (this.mouseFocus && e.target === this.mouseFocus) e.preventDefault();
        this.mouseFocus = null;
      });
      f.addEventListener('focusout', (e) => {
        if (this.isCell(e.target)) this.commit(e.target);
        const next = e.relatedTarget;
        if (!next || !f.contains(next)) {
          this.renderStatus();
          this.flush();
        }
      });
      f.addEventListener('input', (e) => {
        if (!this.isCell(e.target)) return;
        const st = this.state(e.target);
        st.conflict = null;
        this.setNote(null);
        this.paint(e.target, true);
        this.schedule();
        this.renderStatus();
      });
      f.addEventListener('keydown', (e) => this.onKey(e));
      f.addEventListener('paste', (e) => this.onPaste(e));
      f.addEventListener('submit', (e) => {
        e.preventDefault();
        this.flush();
      });

      window.addEventListener('beforeunload', (e) => {
        this.flush({ unload: true });
        if (this.mustWarn()) {
          e.preventDefault();
          e.returnValue = '';
        }
      });
      window.addEventListener('pagehide', () => this.flush({ unload: true }));
      document.addEventListener('visibilitychange', () => {
        if (document.visibilityState === 'hidden') this.flush({ keepalive: true });
        else this.poll();
      });
      window.addEventListener('online', () => this.flush());
    }

    onKey(e) {
      const input = e.target;
      if (!this.isCell(input) || e.isComposing || e.keyCode === 229) return;
      if (e.key === 'Escape') {
        if (e.ctrlKey || e.altKey || e.metaKey) return;
        const st = this.state(input);
        if (input.value !== st.saved || st.rejected) {
          e.preventDefault();
          input.value = st.saved;
          st.rejected = null;
          this.paint(input, false);
          input.select();
          this.renderStatus();
        }
        return;
      }
      if (e.altKey || e.metaKey) return;
      const plain = !e.ctrlKey && !e.shiftKey;
      const len = input.value.length;
      const s = input.selectionStart;
      const end = input.selectionEnd;
      const all = s === 0 && end === len;
      switch (e.key) {
        case 'ArrowUp':
          if (plain) this.go(e, input, -1, 0);
          break;
        case 'ArrowDown':
          if (plain) this.go(e, input, 1, 0);
          break;
        case 'Enter':
          if (e.ctrlKey) return;
          this.go(e, input, e.shiftKey ? -1 : 1, 0, true);
          break;
        case 'ArrowLeft':
          if (plain && (all || (s === 0 && end === 0))) this.go(e, input, 0, -1);
          break;
        case 'ArrowRight':
          if (plain && (all || (s === len && end === len))) this.go(e, input, 0, 1);
          break;
        case 'Home':
        case 'End':
          if (e.ctrlKey && !e.shiftKey) {
            const cells = this.rowInputs(input.closest('tr'));
            this.go(e, input, 0, 0, false, e.key === 'Home' ? cells[0] : cells[cells.length - 1]);
          }
          break;
        default:
      }
    }

    /** Moves focus dRow rows / dCol cells away (or to `target`). At the edge, Enter commits the
     *  cell and stays. */
    go(e, input, dRow, dCol, enter, target) {
      e.preventDefault();
      let to = target || null;
      const tr = input.closest('tr');
      if (!to && dRow) {
        const rows = this.rows();
        const slot = input.dataset.slot;
        const col = this.rowInputs(tr).indexOf(input);
        for (let i = rows.indexOf(tr) + dRow; i >= 0 && i < rows.length; i += dRow) {
          const cells = this.rowInputs(rows[i]);
          to = cells.find((c) => c.dataset.slot === slot) || cells[col] || null;
          if (to) break;
        }
      } else if (!to && dCol) {
        const cells = this.rowInputs(tr);
        to = cells[cells.indexOf(input) + dCol] || null;
      }
      if (to && to !== input) {
        to.focus();
      } else if (enter) {
        this.commit(input);
        input.select();
        this.flush();
      }
    }

    onPaste(e) {
      const input = e.target;
      if (!this.isCell(input) || !e.clipboardData) return;
      let text = e.clipboardData.getData('text/plain');
      if (typeof text !== 'string') return;
      text = text.replace(/\r\n?/g, '\n');
      if (text.endsWith('\n')) text = text.slice(0, -1);
      const block = text.split('\n').map((line) => line.split('\t'));
      if (block.length === 1 && block[0].length === 1) {
        // One value: it replaces the cell's text (a read-only cell keeps the browser's no-op).
        if (input.readOnly) return;
        e.preventDefault();
        input.value = block[0][0].trim();
        this.state(input).conflict = null;
        this.commit(input);
        input.select();
        this.setNote(null);
        this.schedule();
        this.renderStatus();
        return;
      }
      e.preventDefault();
      const rows = this.rows();
      const tr = input.closest('tr');
      const r0 = rows.indexOf(tr);
      const slots = this.rowInputs(tr).map((c) => c.dataset.slot);
      const c0 = slots.indexOf(input.dataset.slot);
      let filled = 0;
      let skipped = 0;
      let outside = 0;
      let bad = 0;
      block.forEach((line, i) => {
        line.forEach((raw, j) => {
          const row = rows[r0 + i];
          const slot = slots[c0 + j];
          const cell = row && slot && row.querySelector('input[data-slot="' + CSS.escape(slot) + '"]');
          if (!cell) {
            if (raw.trim() !== '') outside += 1;
            return;
          }
          if (cell.readOnly || cell.disabled) {
            skipped += 1;
            return;
          }
          cell.value = raw.trim();
          this.state(cell).conflict = null;
          this.commit(cell);
          if (validate(this.kindOf(cell), cell.value).state !== 'ok') bad += 1;
          filled += 1;
        });
      });
      input.select();
      const parts = ['Đã dán ' + filled + ' giá trị'];
      if (skipped) parts.push('bỏ qua ' + skipped + ' ô bị khóa');
      if (outside) parts.push(outside + ' giá trị nằm ngoài bảng nên không dán');
      if (bad) parts.push(bad + ' giá trị chưa hợp lệ, chưa được lưu');
      this.setNote(parts.join('; ') + '.');
      this.schedule();
      this.renderStatus();
    }

    // --- saving --------------------------------------------------------------------------------

    schedule() {
      window.clearTimeout(this.timer);
      this.timer = window.setTimeout(() => this.flush(), SAVE_DELAY_MS);
    }

    scheduleRetry() {
      window.clearTimeout(this.retryTimer);
      this.retryTimer = window.setTimeout(() => this.flush(), RETRY_MS);
    }

    /** Sends every changed valid cell. `unload`: also cells already on their way in a request the
     *  closing page might cancel, with keepalive. `keepalive`: the page is being hidden. */
    flush(opts) {
      const unload = !!(opts && opts.unload);
      const keepalive = unload || !!(opts && opts.keepalive);
      window.clearTimeout(this.timer);
      this.timer = 0;
      if (this.inflight && !unload) {
        this.again = true;
        return;
      }
      const batch = [];
      for (const input of this.cells.keys()) {
        const st = this.cells.get(input);
        if (st.sending !== null && !(unload && !st.sendingKeepalive)) continue;
        const value = st.sending !== null ? this.unsavedOrSending(input) : this.unsaved(input);
        if (value === null) continue;
        batch.push({ input, value, version: this.version(input) });
      }
      if (!batch.length) {
        if (!this.inflight) this.problem = null; // nothing left to retry
        this.renderStatus();
        return;
      }
      window.clearTimeout(this.retryTimer);
      for (const b of batch) {
        const st = this.state(b.input);
        st.sending = b.value;
        st.sendingKeepalive = keepalive;
      }
      this.send(batch, keepalive);
    }

    unsavedOrSending(input) {
      const v = validate(this.kindOf(input), input.value);
      return v.state === 'ok' && v.value !== this.state(input).saved ? v.value : null;
    }

    async send(batch, keepalive) {
      this.inflight += 1;
      this.renderStatus();
      const body = JSON.stringify({
        class_id: this.classId,
        subject: this.subject,
        term: this.term,
        cells: batch.map((b) => ({
          learner_id: this.learnerOf(b.input),
          slot: b.input.dataset.slot,
          value: b.value === '' ? null : b.value,
          version: b.version,
        })),
      });
      let ok = false;
      let result = { unanswered: 0, saved: 0 };
      try {
        const res = await fetch(this.api, {
          method: 'PUT',
          headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': this.csrf, Accept: 'application/json' },
          body,
          credentials: 'same-origin',
          cache: 'no-store',
          keepalive,
        });
        let data = null;
        try {
          data = await res.json();
        } catch (_) {
          data = null;
        }
        if (res.status === 200 && data && Array.isArray(data.cells)) {
          result = this.apply(batch, data);
          ok = true;
          this.problem = null;
          if (result.saved) this.lastSavedAt = new Date();
        } else {
          this.problem = this.httpProblem(res.status, data);
        }
      } catch (_) {
        this.problem = MSG.offline;
      } finally {
        for (const b of batch) {
          const st = this.state(b.input);
          if (st.sending === b.value) st.sending = null;
          this.paint(b.input, document.activeElement === b.input);
        }
        this.inflight -= 1;
        if (!this.inflight) {
          const more = this.again || Array.from(this.cells.keys()).some((i) => this.unsaved(i) !== null);
          this.again = false;
          if (!ok || result.unanswered) this.scheduleRetry();
          else if (more) this.schedule();
        }
        this.renderStatus();
      }
    }

    httpProblem(status, data) {
      const msg = data && data.error && typeof data.error.message === 'string' ? data.error.message.trim() : '';
      if (msg) return msg.replace(/[.。]\s*$/, '');
      if (status === 401 || status === 403) return MSG.expired;
      return 'Không lưu được (lỗi ' + status + ')';
    }

    /** Applies a 200 answer: how many sent cells it did not answer, how many it saved. */
    apply(batch, data) {
      const sent = new Map(batch.map((b) => [this.key(b.input), b]));
      const answered = new Set();
      let saved = 0;
      for (const c of data.cells) {
        if (!c) continue;
        const k = c.learner_id + '|' + c.slot;
        const b = sent.get(k);
        if (!b) continue;
        answered.add(k);
        const input = b.input;
        const st = this.state(input);
        const kind = this.kindOf(input);
        const now = validate(kind, input.value);
        const unchanged = now.state === 'ok' && now.value === b.value;
        if (c.status === 'saved' || c.status === 'conflict') {
          const value = fromServer(kind, c.value);
          this.setVersion(input, c.version);
          st.saved = value;
          st.rejected = null;
          if (c.status === 'saved' || value === b.value) {
            // A conflict that carries our own value is a duplicate of a write that went through.
            st.conflict = null;
            saved += 1;
            if (unchanged) {
              if (document.activeElement !== input) this.show(input, value);
              this.flash(input, 'saved');
            }
          } else {
            const mine = b.value === '' ? 'ô trống' : b.value;
            const at = when(c.at);
            st.conflict = 'Giá trị đã được ' + (c.by || 'người khác') + ' sửa' + (at ? ' lúc ' + at : '') +
              '; giá trị của bạn (' + mine + ') chưa được lưu.';
            if (unchanged) this.show(input, value);
          }
        } else {
          st.rejected = {
            value: b.value,
            locked: c.status === 'locked',
            message: c.message || (c.status === 'locked' ? MSG.locked : MSG.rejected),
          };
        }
      }
      for (const r of Array.isArray(data.rows) ? data.rows : []) {
        if (r && r.learner_id !== undefined) this.setAverage(r.learner_id, r.average);
      }
      return { unanswered: sent.size - answered.size, saved };
    }

    mustWarn() {
      for (const input of this.cells.keys()) {
        if (!input.isConnected || input.readOnly) continue;
        if (this.stuck(input)) return true;
        if (this.problem && (this.unsaved(input) !== null || this.state(input).sending !== null)) return true;
      }
      return false;
    }

    // --- polling -------------------------------------------------------------------------------

    async poll() {
      if (!this.form.isConnected) {
        window.clearInterval(this.pollTimer); // the grid was replaced (htmx)
        return;
      }
      if (this.polling || document.visibilityState === 'hidden') return;
      this.polling = true;
      try {
        const q = new URLSearchParams({ class_id: this.classId, subject: this.subject, term: String(this.term) });
        const url = this.api + (this.api.includes('?') ? '&' : '?') + q.toString();
        const res = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' });
        if (res.status !== 200) return;
        const data = await res.json();
        for (const c of Array.isArray(data.cells) ? data.cells : []) {
          const input = c && this.byKey.get(c.learner_id + '|' + c.slot);
          if (!input || !input.isConnected) continue;
          if (!(Number(c.version) > this.version(input))) continue;
          const st = this.state(input);
          if (st.sending !== null) continue;
          const kind = this.kindOf(input);
          const now = validate(kind, input.value);
          // A cell with typed, unsaved or rejected text keeps it (and its old version, so that
          // saving it reports the conflict instead of overwriting silently).
          if (now.state !== 'ok' || now.value !== st.saved || st.rejected) continue;
          const value = fromServer(kind, c.value);
          st.saved = value;
          this.setVersion(input, c.version);
          if (input.value !== value) {
            this.show(input, value);
            this.flash(input, 'updated');
          }
          this.paint(input, false);
        }
        const busy = this.inflight > 0 || Array.from(this.cells.keys()).some((i) => this.unsaved(i) !== null);
        if (!busy) {
          for (const r of Array.isArray(data.rows) ? data.rows : []) {
            if (r && r.learner_id !== undefined) this.setAverage(r.learner_id, r.average);
          }
        }
      } catch (_) {
        // Polling is best effort; saving reports the connection state.
      } finally {
        this.polling = false;
      }
    }

    // --- status line ---------------------------------------------------------------------------

    /** A message about the last action (a paste), shown beside the saving state for a while. */
    setNote(text) {
      window.clearTimeout(this.noteTimer);
      this.note = text;
      if (text) {
        this.noteTimer = window.setTimeout(() => {
          this.note = null;
          this.renderStatus();
        }, NOTE_MS);
      }
    }

    renderStatus() {
      if (!this.statusEl) return;
      let invalid = 0;
      let locked = 0;
      let conflicts = 0;
      let unsaved = 0;
      for (const input of this.cells.keys()) {
        if (!input.isConnected) continue;
        const st = this.cells.get(input);
        if (input.classList.contains('invalid')) invalid += 1;
        if (st.lockedByUs) locked += 1;
        if (st.conflict) conflicts += 1;
        if (this.unsaved(input) !== null || st.sending !== null) unsaved += 1;
      }
      const parts = [];
      let tone = 'ok';
      if (this.note) parts.push(this.note);
      if (this.inflight) {
        parts.push(MSG.saving);
        tone = 'busy';
      } else if (this.problem) {
        parts.push(this.problem + ' — ' + MSG.retry + (unsaved ? ' (' + unsaved + ' ô chưa lưu).' : '.'));
        tone = 'error';
      } else if (this.lastSavedAt) {
        parts.push('Đã lưu lúc ' + hhmm(this.lastSavedAt) + '.');
      }
      if (invalid) {
        parts.push('Có ' + invalid + ' ô chưa hợp lệ.');
        tone = 'error';
      }
      if (locked) {
        parts.push('Có ' + locked + ' ô đã bị khóa, không lưu được.');
        tone = 'error';
      }
      if (conflicts) {
        parts.push('Có ' + conflicts + ' ô vừa được người khác sửa; giá trị của bạn ở đó chưa được lưu (xem chú thích của ô).');
        tone = 'error';
      }
      const text = parts.join(' ');
      if (this.statusEl.textContent !== text) this.statusEl.textContent = text;
      for (const t of ['ok', 'busy', 'error']) this.statusEl.classList.toggle(t, t === tone && text !== '');
    }
  }

  // ---------------------------------------------------------------------------------------------

  const started = new WeakSet();

  function start(root) {
    const forms = root.matches && root.matches('form.gradebook') ? [root] : root.querySelectorAll('form.gradebook');
    for (const form of forms) {
      if (started.has(form)) continue;
      started.add(form);
      new Gradebook(form);
    }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => start(document));
  else start(document);
  // A grid swapped in by htmx.
  document.addEventListener('htmx:load', (e) => {
    if (e.target instanceof Element) start(e.target);
  });
})();

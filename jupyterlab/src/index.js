// JupyterLab side of "Soumettre": a notebook toolbar button and a palette command that save the
// notebook, send it to the server extension (autoformation.jupyterlab), then follow the grading.
// Learner-facing text is French.
import { Dialog, ICommandPalette, ToolbarButton, showDialog } from '@jupyterlab/apputils';
import { ServerConnection } from '@jupyterlab/services';
import { Widget } from '@lumino/widgets';

const COMMAND = 'autoformation:submit';
const CHALLENGE_COMMAND = 'autoformation:submit-predictions';
const POLL_MS = 1500;
const POLL_LIMIT_MS = 10 * 60 * 1000;

// Calls the server extension; resolves with the JSON body, rejects with the learner's message.
async function api(path, init) {
  const settings = ServerConnection.makeSettings();
  const url = settings.baseUrl + 'autoformation/' + path;
  let response;
  try {
    response = await ServerConnection.makeRequest(url, init || {}, settings);
  } catch (err) {
    throw new Error('Votre serveur Jupyter ne répond pas : réessayez dans un moment.');
  }
  let body = {};
  try {
    body = await response.json();
  } catch (err) {
    body = {};
  }
  if (!response.ok) {
    throw new Error(body.message || `Le serveur a répondu ${response.status}.`);
  }
  return body;
}

function element(tag, attrs, ...children) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([key, value]) => node.setAttribute(key, value));
  children.forEach(child => node.append(child));
  return node;
}

function points(value) {
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 100) / 100);
}

function showPending(body, sub, notebook) {
  body.node.dataset.status = 'queued';
  body.node.replaceChildren(
    element('p', { class: 'af-submit-pending' }, 'Correction en cours…'),
    element('p', {}, `${notebook} — soumission n° ${sub.id}. Vous pouvez continuer à travailler : le résultat s'affichera ici.`)
  );
}

function showResult(body, sub) {
  body.node.dataset.status = 'done';
  const rows = (sub.exercises || []).map(ex => {
    const passed = ex.points >= ex.max_points;
    return element(
      'tr', { class: passed ? 'af-passed' : 'af-failed', 'data-grade-id': ex.grade_id },
      element('td', {}, passed ? '✔' : '✘'),
      element('td', {}, ex.grade_id),
      element('td', {}, `${points(ex.points)} / ${points(ex.max_points)}`)
    );
  });
  const table = element(
    'table', { class: 'af-submit-exercises' },
    element('thead', {}, element('tr', {}, element('th', {}, ''), element('th', {}, 'Exercice'), element('th', {}, 'Points'))),
    element('tbody', {}, ...rows)
  );
  const children = [
    element('p', {}, sub.message || 'Correction terminée.'),
    element('p', { class: 'af-submit-score' }, `Score : ${points(sub.score || 0)} / ${points(sub.max_score || 0)}` +
      (sub.awaiting_trainer ? ` (dont ${points(sub.awaiting_trainer)} point(s) en attente de la correction d'un formateur)` : '')),
    table
  ];
  if (sub.feedback_url) {
    children.push(element(
      'p', {},
      element('a', { class: 'af-submit-feedback', href: sub.feedback_url, target: '_blank', rel: 'noopener' }, 'Voir la correction')
    ));
  }
  body.node.replaceChildren(...children);
}

function showProblem(body, message) {
  body.node.dataset.status = 'error';
  body.node.replaceChildren(element('p', { class: 'af-submit-error' }, message));
}

async function submitNotebook(context) {
  const notebook = context.path;
  try {
    await context.save();
  } catch (err) {
    await showDialog({
      title: 'Enregistrement impossible',
      body: `Le notebook n'a pas pu être enregistré, il n'est donc pas soumis : ${err.message || err}`,
      buttons: [Dialog.okButton({ label: 'Fermer' })]
    });
    return;
  }
  let sub;
  try {
    sub = await api('submit', { method: 'POST', body: JSON.stringify({ path: notebook }) });
  } catch (err) {
    await showDialog({
      title: 'Soumission impossible',
      body: err.message,
      buttons: [Dialog.okButton({ label: 'Fermer' })]
    });
    return;
  }
  const body = new Widget();
  body.addClass('af-submit-dialog');
  body.node.id = 'autoformation-submit-dialog';
  showPending(body, sub, notebook);
  const dialog = new Dialog({
    title: 'Soumettre pour correction',
    body,
    buttons: [Dialog.okButton({ label: 'Fermer' })]
  });
  let open = true;
  dialog.launch().then(() => { open = false; });
  const deadline = Date.now() + POLL_LIMIT_MS;
  while (open && sub.status !== 'done') {
    if (Date.now() > deadline) {
      showProblem(body, 'La correction prend plus de temps que prévu : retrouvez le résultat plus tard sur la page « Ma progression ».');
      return;
    }
    await new Promise(resolve => setTimeout(resolve, POLL_MS));
    try {
      sub = await api(`submissions/${sub.id}`);
    } catch (err) {
      showProblem(body, `Suivi de la correction impossible : ${err.message}`);
      return;
    }
  }
  if (sub.status === 'done') {
    showResult(body, sub);
  }
}

// A Funathon team's predictions (a CSV file under defis/<challenge>/): sent to the challenge, scored.
async function submitPredictions(context) {
  const path = context.path;
  await context.save();
  const body = new Widget();
  body.addClass('af-submit-dialog');
  body.node.id = 'autoformation-challenge-dialog';
  body.node.dataset.status = 'queued';
  body.node.replaceChildren(element('p', {}, `${path} : envoi…`));
  const dialog = new Dialog({ title: 'Soumettre au défi', body, buttons: [Dialog.okButton({ label: 'Fermer' })] });
  let open = true;
  dialog.launch().then(() => { open = false; });
  let sub;
  try {
    sub = await api('defi', { method: 'POST', body: JSON.stringify({ path }) });
  } catch (err) {
    body.node.dataset.status = 'error';
    body.node.replaceChildren(...err.message.split('\n').map(line => element('p', { class: 'af-submit-error' }, line)));
    return;
  }
  body.node.replaceChildren(element('p', {}, `Soumission n° ${sub.id} de l'équipe ${sub.team} : évaluation en cours…`));
  const deadline = Date.now() + POLL_LIMIT_MS;
  while (open && sub.status !== 'done' && Date.now() < deadline) {
    await new Promise(resolve => setTimeout(resolve, POLL_MS));
    sub = { ...sub, ...(await api(`defis/${sub.challenge}/${sub.id}`)) };
  }
  if (sub.status === 'done') {
    body.node.dataset.status = 'done';
    const scores = sub.private || sub.public || {};
    body.node.replaceChildren(
      element('p', {}, sub.result === 'scored' ? `Équipe ${sub.team} : prédictions évaluées.` : sub.message),
      element('p', { class: 'af-submit-score' },
        Object.entries(scores).map(([name, value]) => `${name} = ${value}`).join(', ')),
      element('p', {}, 'Le classement est sur la page du défi.')
    );
  }
}

function isPredictions(widget) {
  const path = widget && widget.context && widget.context.path;
  return !!(path && path.startsWith('defis/') && path.endsWith('.csv'));
}

function isNotebook(widget) {
  return !!(widget && widget.context && widget.context.path && widget.context.path.endsWith('.ipynb'));
}

const plugin = {
  id: '@autoformation/submit:plugin',
  description: 'Soumettre un notebook pour correction.',
  autoStart: true,
  optional: [ICommandPalette],
  activate: (app, palette) => {
    app.commands.addCommand(COMMAND, {
      label: 'Soumettre pour correction',
      caption: 'Enregistrer ce notebook et le soumettre au service de correction',
      isEnabled: () => isNotebook(app.shell.currentWidget),
      execute: () => {
        const widget = app.shell.currentWidget;
        if (isNotebook(widget)) {
          return submitNotebook(widget.context);
        }
      }
    });
    app.commands.addCommand(CHALLENGE_COMMAND, {
      label: 'Soumettre ces prédictions au défi',
      caption: 'Envoyer ce fichier CSV au défi de son dossier (defis/<défi>/)',
      isEnabled: () => isPredictions(app.shell.currentWidget),
      execute: () => {
        const widget = app.shell.currentWidget;
        if (isPredictions(widget)) {
          return submitPredictions(widget.context);
        }
      }
    });
    if (palette) {
      palette.addItem({ command: COMMAND, category: 'Autoformation' });
      palette.addItem({ command: CHALLENGE_COMMAND, category: 'Autoformation' });
    }
    // A CSV file of a challenge's folder gets its own button.
    app.docRegistry.addWidgetExtension('CSVTable', {
      createNew: (panel, context) => {
        if (!context.path.startsWith('defis/')) {
          return;
        }
        const button = new ToolbarButton({
          label: 'Soumettre au défi',
          tooltip: 'Envoyer ces prédictions au défi de ce dossier',
          className: 'af-submit-button',
          onClick: () => { void submitPredictions(context); }
        });
        panel.toolbar.insertItem(10, 'autoformation-submit-predictions', button);
        return button;
      }
    });
    // The button acts on its own notebook, whichever widget has the focus.
    app.docRegistry.addWidgetExtension('Notebook', {
      createNew: (panel, context) => {
        const button = new ToolbarButton({
          label: 'Soumettre',
          tooltip: 'Enregistrer ce notebook et le soumettre pour correction',
          className: 'af-submit-button',
          dataset: { 'data-command': COMMAND },
          onClick: () => { void submitNotebook(context); }
        });
        button.id = `autoformation-submit-${panel.id}`;
        panel.toolbar.insertItem(10, 'autoformation-submit', button);
        return button;
      }
    });
  }
};

export default plugin;

// A WhatsApp-style preview of a template draft, examples filled in.
import { fill, type TemplateDraft } from "../../lib/templateRules";
import { Icon } from "../../components/icons";

export function Preview({ draft }: { draft: TemplateDraft }) {
  const headerText = draft.headerText.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/, (whole) => (draft.headerExample.trim() ? draft.headerExample : whole));
  return (
    <div className="wa-preview" data-testid="template-preview" aria-label="Preview">
      <div className="wa-chat">
        <div className="wa-bubble">
          {draft.headerText ? <div className="wa-header">{headerText}</div> : null}
          <div className="wa-body">{draft.body ? fill(draft.body, draft.bodyExamples) : <span className="muted">The message body appears here.</span>}</div>
          {draft.footer ? <div className="wa-footer">{draft.footer}</div> : null}
          <div className="wa-time">12:00</div>
        </div>
        {draft.buttons.length ? (
          <div className="wa-buttons">
            {draft.buttons.map((b, i) => (
              <div key={i} className="wa-button">
                {b.type === "URL" ? <Icon name="send" size={13} /> : b.type === "PHONE_NUMBER" ? <Icon name="phone" size={13} /> : null}
                {b.text || "Button"}
              </div>
            ))}
          </div>
        ) : null}
      </div>
    </div>
  );
}

// The input fields a credential purpose needs (PEM text areas that can also read a file,
// hidden one-line secrets, plain ids).
import { Form, Input, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import type { Purpose } from '../../types';
import { MONO_FONT } from '../../styles';
import type { FieldName, FieldValues } from './keyMeta';
import { IMPORT_FIELDS } from './keyMeta';

export interface ImportFieldsProps {
  purpose: Purpose;
  values: FieldValues;
  errors: Partial<Record<FieldName, string>>;
  onChange: (name: FieldName, value: string) => void;
  /** Test id prefix: `<prefix>-field-<name>`, `<prefix>-file-<name>`. */
  prefix?: string;
}

function readFile(file: File): Promise<string> {
  if (typeof file.text === 'function') return file.text();
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result ?? ''));
    r.onerror = () => reject(r.error);
    r.readAsText(file);
  });
}

export default function ImportFields({ purpose, values, errors, onChange, prefix = 'import' }: ImportFieldsProps) {
  const { t } = useTranslation('keys');
  return (
    <>
      {IMPORT_FIELDS[purpose].map((f, i) => {
        const label = t(`import.field.${purpose}.${f.name}`);
        const err = errors[f.name];
        const common = {
          'data-testid': `${prefix}-field-${f.name}`,
          'aria-label': label,
          autoFocus: i === 0,
          value: values[f.name] ?? '',
          autoComplete: 'off',
          spellCheck: false,
        };
        return (
          <Form.Item
            key={f.name}
            label={label}
            required={f.required}
            validateStatus={err ? 'error' : undefined}
            help={err ? t(err, { field: label }) : t(`import.help.${purpose}.${f.name}`)}
          >
            {f.kind === 'pem' ? (
              <div>
                <Input.TextArea
                  {...common}
                  rows={5}
                  placeholder={t('import.pem_placeholder')}
                  onChange={(e) => onChange(f.name, e.target.value)}
                  style={{
                    fontFamily: MONO_FONT,
                    fontSize: 12,
                    // A private key is masked while it sits in the form.
                    ...(f.secret ? ({ WebkitTextSecurity: 'disc' } as React.CSSProperties) : {}),
                  }}
                />
                <div style={{ marginTop: 4 }}>
                  <Typography.Text type="secondary" style={{ marginRight: 8 }}>
                    {t('import.or_file')}
                  </Typography.Text>
                  <input
                    type="file"
                    accept=".pem,.crt,.cer,.key,.txt"
                    data-testid={`${prefix}-file-${f.name}`}
                    aria-label={t('import.read_file', { field: label })}
                    onChange={(e) => {
                      const file = e.target.files?.[0];
                      if (!file) return;
                      void readFile(file).then((text) => onChange(f.name, text));
                      // The same file can be chosen again after an edit.
                      e.target.value = '';
                    }}
                  />
                </div>
              </div>
            ) : f.kind === 'secret' ? (
              <Input.Password {...common} visibilityToggle={false} onChange={(e) => onChange(f.name, e.target.value)} />
            ) : (
              <Input {...common} onChange={(e) => onChange(f.name, e.target.value)} />
            )}
          </Form.Item>
        );
      })}
    </>
  );
}
